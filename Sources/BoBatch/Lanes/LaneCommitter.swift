import Foundation
import Synchronization

/// Group commit for a lane's workers: the intents they commit ahead (while their request is on the wire), with the
/// answers they hold, gathered from several workers into one transaction.
///
/// A one-domain-a-call lane with eight requests in flight committed once per domain, each commit writing the same
/// few pages (the pairs' leaf, their index entries, the intents' and result marks' last pages) again. An intent
/// prepared ahead is needed only when its worker's current request answers, a whole round trip later, so it can
/// wait for company: ``add(_:)`` queues it, and the worker that brings the `groupSize`-th entry commits all of
/// them, right after its own request left. A worker whose next send comes before that commits what is queued
/// itself (``intent(of:)``): no send ever leaves before its intent is committed.
///
/// What waits in the queue is only what may wait: an intent not committed yet was never sent, and a clear answer
/// held here (only for a provider that can be asked what it holds, as ``Lane/UnrecordedAnswer`` says) leaves its
/// intent open if the process dies, which the rerun settles by lookup. Every entry is committed before the lane's
/// workers are done: each one belongs to a chunk its worker either sends or withdraws, and both ask for its intent.
final class LaneCommitter: Sendable {
    /// A worker's next chunk to be committed ahead of its send, with the answer it held, if any.
    struct Entry: Sendable {
        var answer: Lane.UnrecordedAnswer?
        var pairs: [PairRow]
        var now: Date
    }

    /// A ticket found without an outcome after the queue was committed: a bug in the committer, named as such.
    struct TicketNotSettled: Error, CustomStringConvertible {
        var description: String { "internal error: a queued intent was neither committed nor failed (LaneCommitter); nothing was sent for it" }
    }

    /// The intent of one entry, once committed (or the error that kept it from being).
    final class Ticket: Sendable {
        fileprivate let outcome = Mutex<Result<Int64, any Error>?>(nil)
    }

    let ledger: LaneLedger
    /// Entries that make a commit: about half the workers, so that the queue is committed well before the first
    /// of them needs its intent (the workers' requests being spread over the round trip). 1 commits every entry at once.
    let groupSize: Int
    private let pending = Mutex<[(entry: Entry, ticket: Ticket)]>([])
    /// One commit at a time: an entry leaves `pending` and gets its outcome under this lock, so whoever takes it
    /// after a commit finds every entry it took settled.
    private let committing = NSLock()

    /// Where a one-provider run's writer takes answers from once they are committed (``ResultFeed``), if any.
    let feed: ResultFeed?

    init(ledger: LaneLedger, groupSize: Int, feed: ResultFeed? = nil) {
        self.ledger = ledger
        self.groupSize = max(1, groupSize)
        self.feed = feed
    }

    /// Queues `entry`, and commits the queue when it has `groupSize` entries.
    func add(_ entry: Entry) throws -> Ticket {
        let ticket = Ticket()
        let count = pending.withLock { queue in
            queue.append((entry, ticket))
            return queue.count
        }
        if count >= groupSize { try commit() }
        return ticket
    }

    /// The ticket's intent, committing the queue first if it is still in there.
    func intent(of ticket: Ticket) throws -> Int64 {
        if let outcome = ticket.outcome.withLock({ $0 }) { return try outcome.get() }
        try commit()
        guard let outcome = ticket.outcome.withLock({ $0 }) else {
            // Unreachable: the ticket was queued before, and every commit settles what it takes. Should it ever
            // happen, the lane stops with this error (the chunk is withdrawn, nothing was sent), rather than with a
            // CancellationError, which the run would take for a signal's stop and report no error for (LaneDriver).
            throw TicketNotSettled()
        }
        return try outcome.get()
    }

    /// Commits everything queued, in one transaction. An error fails every entry it took.
    func commit() throws {
        try committing.withLock {
            let batch = pending.withLock { queue in
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            guard !batch.isEmpty else { return }
            do {
                let intents = try ledger.commitTogether(batch.map(\.entry))
                for (item, intent) in zip(batch, intents) { item.ticket.outcome.withLock { $0 = .success(intent) } }
                // Only now, committed, may the writer take these answers without reading them back.
                for item in batch {
                    if let answer = item.entry.answer { feed?.add(answer.updates, of: answer.pairs, at: answer.answeredAt) }
                }
            } catch {
                for item in batch { item.ticket.outcome.withLock { $0 = .failure(error) } }
                throw error
            }
        }
    }
}
