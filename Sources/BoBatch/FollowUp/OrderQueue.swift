import Foundation

/// Hands out a follow-up lane's orders in chunks of at most `chunkSize`, run after run, reading each run's orders
/// from the ledger a page at a time (so memory stays flat for a one-order-a-call provider), and first the chunks
/// put back after a refusal once their wait is over. A provider that answers for the whole account per call
/// (`chunkSize` `Int.max`) gets each run's orders in one chunk.
actor OrderQueue {
    struct Chunk: Sendable {
        var run: String
        var rows: [PlacedOrderRow]
        /// Refusals of this chunk in a row in this invocation (what `LaneSettings.maxRefusalsInARow` bounds).
        var refusals = 0
        /// Sends of these orders in this invocation that ended without a clear answer (what `maxAttempts` bounds).
        var tries = 0
        /// Not to be sent before this lane-clock time.
        var notBefore: Double = 0
    }

    enum Take: Sendable {
        case chunk(Chunk)
        case wait(Double)
        case done
    }

    typealias Page = @Sendable (_ run: String, _ afterID: Int, _ limit: Int) throws -> [PlacedOrderRow]

    let chunkSize: Int
    let pageSize: Int
    private let runs: [String]
    private let page: Page
    private let clock: any LaneClock
    private var runIndex = 0
    private var cursor = 0
    private var runExhausted = false
    private var buffer: [PlacedOrderRow] = []
    private var bufferStart = 0
    private var requeued: [Chunk] = []

    init(runs: [String], chunkSize: Int, clock: any LaneClock, pageSize: Int = 1000, page: @escaping Page) {
        self.runs = runs
        self.chunkSize = max(1, chunkSize)
        self.pageSize = max(1, pageSize)
        self.clock = clock
        self.page = page
    }

    func requeue(_ chunk: Chunk) {
        // A chunk put back never exceeds the provider's limit, whoever built it.
        for start in stride(from: 0, to: chunk.rows.count, by: chunkSize) {
            var part = chunk
            part.rows = Array(chunk.rows[start..<min(start + chunkSize, chunk.rows.count)])
            requeued.append(part)
        }
    }

    func next() throws -> Take {
        let now = clock.now()
        if let index = requeued.firstIndex(where: { $0.notBefore <= now }) { return .chunk(requeued.remove(at: index)) }
        while runIndex < runs.count {
            while buffer.count - bufferStart < chunkSize, !runExhausted {
                let rows = try page(runs[runIndex], cursor, pageSize)
                if let last = rows.last { cursor = last.id }
                if rows.count < pageSize { runExhausted = true }
                if bufferStart > 0 {
                    buffer.removeFirst(bufferStart)
                    bufferStart = 0
                }
                buffer += rows
            }
            let available = buffer.count - bufferStart
            if available > 0 {
                let end = bufferStart + min(chunkSize, available)
                let chunk = Chunk(run: runs[runIndex], rows: Array(buffer[bufferStart..<end]))
                bufferStart = end
                return .chunk(chunk)
            }
            buffer.removeAll(keepingCapacity: true)
            bufferStart = 0
            runIndex += 1
            cursor = 0
            runExhausted = false
        }
        if let soonest = requeued.map(\.notBefore).min() { return .wait(max(0, soonest - now)) }
        return .done
    }
}
