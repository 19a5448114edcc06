import Foundation

extension PairRow {
    /// After a send that got an answer other than a refusal (mirrors what the ledger counted); `unanswered` when
    /// it may have landed without an answer.
    func afterSend(unanswered: Bool) -> PairRow {
        var copy = self
        copy.attempts += 1
        copy.refusalsInARow = 0
        if unanswered { copy.unanswered += 1 }
        return copy
    }

    /// After a refusal: nothing happened at the provider.
    func afterRefusal() -> PairRow {
        var copy = self
        copy.attempts += 1
        copy.refusalsInARow += 1
        return copy
    }

    /// After a send that got no verdict: also one more try against this invocation's budget.
    func afterTry(unanswered: Bool) -> PairRow {
        var copy = afterSend(unanswered: unanswered)
        copy.tries += 1
        return copy
    }
}

struct WorkChunk: Sendable {
    var pairs: [PairRow]
    /// Not to be sent before this lane-clock time (a refused request's wait).
    var notBefore: Double = 0
}

/// What a worker gets from the queue.
enum WorkTake: Sendable {
    case chunk(WorkChunk)
    /// Nothing is ready yet, but a refused chunk will be in this many seconds.
    case wait(Double)
    case done
}

/// Hands out chunks: first those put back (split halves, refused, proven absent), then fresh pending
/// pairs from the ledger in input order, read page by page so memory stays flat.
/// A refused chunk waits for its own time while fresh work goes ahead, so one refusal never idles the lane.
///
/// The ledger is read a page (several chunks) at a time, and the next page is read ahead, in its own task,
/// as soon as the buffer runs low: while the chunk just handed out is on the wire. A worker that comes back
/// for more therefore finds its chunk in memory, and nothing but the ledger commits of an answer and of the
/// next intent stands between two requests (Dynadot takes one request at a time per account, so any other
/// wait there is the lane's whole throughput).
///
/// Reading ahead is safe because nothing but the lane that owns this queue changes a pending pair of its
/// provider while it runs, and the lane changes a pair only after taking it from here; pairs put back come
/// back through `requeue`, never through the ledger cursor. A pair still in the buffer when the lane stops
/// (a halt, a signal) is simply still `pending` in the ledger.
actor WorkQueue {
    let ledger: LaneLedger
    let chunkSize: Int
    let clock: any LaneClock
    /// Pairs per ledger read: whole chunks, so that every chunk but the last is full.
    nonisolated let pageSize: Int
    private var requeued: [WorkChunk] = []
    /// Pairs read from the ledger and not handed out yet, from `bufferStart` on, in input order.
    private var buffer: [PairRow] = []
    private var bufferStart = 0
    /// The seq of the last pair read into the buffer: where the next page starts.
    private var cursor = 0
    private var exhausted = false
    /// The next page, being read while the lane sends.
    private var readAhead: Task<[PairRow], any Error>?

    /// `pageSize` is rounded to whole chunks; by default about 512 pairs, at least one chunk.
    init(ledger: LaneLedger, chunkSize: Int, clock: any LaneClock, pageSize: Int? = nil) {
        self.ledger = ledger
        self.chunkSize = max(1, chunkSize)
        self.clock = clock
        let wanted = pageSize ?? 512
        self.pageSize = self.chunkSize * max(1, wanted / self.chunkSize)
    }

    var hasRequeued: Bool { !requeued.isEmpty }

    func requeue(_ chunk: WorkChunk) { requeued.append(chunk) }

    /// The first put-back chunk that is due; or how long until one is; or `.done` when none is left.
    func nextRequeued() -> WorkTake {
        guard !requeued.isEmpty else { return .done }
        let now = clock.now()
        if let index = requeued.firstIndex(where: { $0.notBefore <= now }) {
            return .chunk(requeued.remove(at: index))
        }
        return .wait(requeued.map(\.notBefore).min()! - now)
    }

    func next() async throws -> WorkTake {
        while true {
            let ready = nextRequeued()
            if case .chunk = ready { return ready }
            let available = buffer.count - bufferStart
            if available >= chunkSize || (available > 0 && exhausted) {
                let end = bufferStart + min(chunkSize, available)
                let pairs = Array(buffer[bufferStart..<end])
                bufferStart = end
                if bufferStart == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    bufferStart = 0
                }
                readAheadIfLow()
                return .chunk(WorkChunk(pairs: pairs))
            }
            if exhausted { return ready }
            try await fill()
        }
    }

    /// Starts reading the next page once less than half a page is left, so that it is in memory before it is needed.
    private func readAheadIfLow() {
        guard !exhausted, readAhead == nil, buffer.count - bufferStart < max(chunkSize, pageSize / 2) else { return }
        let (ledger, after, limit) = (ledger, cursor, pageSize)
        readAhead = Self.read(ledger, after: after, limit: limit)
    }

    /// Reads a page off the actor, so that workers taking chunks already in memory never wait behind the read.
    private static func read(_ ledger: LaneLedger, after: Int, limit: Int) -> Task<[PairRow], any Error> {
        Task.detached { try ledger.pairs(state: .pending, afterSeq: after, limit: limit) }
    }

    /// Waits for the page being read (starting its read if none is under way) and appends it to the buffer.
    /// Workers that wait together take the page once: only the one that finds its task still current appends it.
    private func fill() async throws {
        if readAhead == nil {
            let (ledger, after, limit) = (ledger, cursor, pageSize)
            readAhead = Self.read(ledger, after: after, limit: limit)
        }
        let task = readAhead!
        let page: [PairRow]
        do {
            page = try await task.value
        } catch {
            if readAhead == task { readAhead = nil }
            throw error
        }
        guard readAhead == task else { return }
        readAhead = nil
        if let last = page.last { cursor = last.seq }
        // A short page means no pending pair is left after the cursor: pairs sent again come back through `requeue`.
        if page.count < pageSize { exhausted = true }
        if bufferStart > 0 {
            buffer.removeFirst(bufferStart)
            bufferStart = 0
        }
        buffer += page
    }
}
