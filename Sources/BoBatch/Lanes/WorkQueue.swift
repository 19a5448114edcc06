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
actor WorkQueue {
    let ledger: LaneLedger
    let chunkSize: Int
    let clock: any LaneClock
    private var requeued: [WorkChunk] = []
    private var cursor = 0
    private var exhausted = false

    init(ledger: LaneLedger, chunkSize: Int, clock: any LaneClock) {
        self.ledger = ledger
        self.chunkSize = chunkSize
        self.clock = clock
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

    func next() throws -> WorkTake {
        let ready = nextRequeued()
        if case .chunk = ready { return ready }
        if !exhausted {
            let pairs = try ledger.pairs(state: .pending, afterSeq: cursor, limit: chunkSize)
            if let last = pairs.last {
                cursor = last.seq
                return .chunk(WorkChunk(pairs: pairs))
            }
            exhausted = true
        }
        return ready
    }
}
