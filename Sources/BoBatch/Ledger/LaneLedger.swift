import Foundation
import GRDB

/// The ledger as one lane sees it: its run and its provider, fixed once. Each call is exactly one ledger call
/// (one transaction); the view holds no state of its own besides the connection it checkpoints the WAL with.
struct LaneLedger: Sendable {
    let ledger: Ledger
    let run: String
    let provider: ProviderID
    let checkpointer: WALCheckpointer

    /// Copies the WAL into the database file in the background, unless a copy is under way: called as a request
    /// leaves, so that the copy runs while it is on the wire, not in a commit between two requests.
    func checkpointInBackground() {
        checkpointer.start()
    }

    /// See ``Ledger/recoverLane(run:provider:now:)``.
    func recover(now: Date) throws -> (interrupted: Int, retried: Int) {
        try ledger.recoverLane(run: run, provider: provider, now: now)
    }

    /// This lane's pair counts per state.
    func stateCounts() throws -> [PairState: Int] {
        try ledger.stateCounts(run: run)[provider] ?? [:]
    }

    /// Up to `limit` of this lane's pairs in `state`, in input order, after `afterSeq`.
    func pairs(state: PairState, afterSeq: Int, limit: Int) throws -> [PairRow] {
        try ledger.pairs(run: run, provider: provider, state: state, afterSeq: afterSeq, limit: limit)
    }

    /// The write-ahead intent of a create of `domains`; returns its id.
    func beginSend(_ domains: [DomainName], now: Date) throws -> Int64 {
        try ledger.beginSend(run: run, provider: provider, domains: domains, now: now)
    }

    /// The write-ahead intent of a create of `pairs`, found by their ids (the lane's hot path); returns its id.
    /// The wait a refusal of `intent` imposed before its domains are resent (for the report).
    func noteWait(intent: Int64, seconds: Double) throws {
        try ledger.noteWait(intent: intent, seconds: seconds)
    }

    func beginSend(_ pairs: [PairRow], now: Date) throws -> Int64 {
        try ledger.beginSend(run: run, provider: provider, pairs: pairs.map { (id: $0.seq, domain: $0.item.domain) }, now: now)
    }

    /// Records outcomes that settle no intent (lookups, requeues, policy, giving up).
    func record(_ updates: [PairUpdate], now: Date) throws {
        try ledger.record(run: run, provider: provider, updates, now: now)
    }

    /// Records the outcomes of a create and settles its intent, in one transaction. `sent`: when the request
    /// left, if later than its intent was committed.
    func record(_ updates: [PairUpdate], settling intent: Int64, as outcome: IntentOutcome, now: Date, sent: Date? = nil) throws {
        try ledger.record(run: run, provider: provider, updates, intent: intent, intentOutcome: outcome, now: now, sent: sent)
    }

    /// See ``Ledger/withdrawSend(run:provider:intent:now:)``.
    func withdrawSend(intent: Int64, now: Date) throws {
        try ledger.withdrawSend(run: run, provider: provider, intent: intent, now: now)
    }

    /// Records the outcomes of a create of `pairs` (the chunk the lane sent) and settles its intent, in one
    /// transaction: the lane's hot path, each pair row found by the id the lane read it with (see
    /// ``Ledger/recordAnswer(run:provider:_:intent:outcome:now:)``). An update for a domain that is not in `pairs`
    /// takes the general path, by name, with the others.
    func record(_ updates: [PairUpdate], of pairs: [PairRow], settling intent: Int64, as outcome: IntentOutcome, now: Date, sent: Date? = nil) throws {
        var ids: [DomainName: Int] = [:]
        ids.reserveCapacity(pairs.count)
        for pair in pairs { ids[pair.item.domain] = pair.seq }
        var keyed: [(id: Int, update: PairUpdate)] = []
        keyed.reserveCapacity(updates.count)
        for update in updates {
            guard let id = ids[update.domain] else {
                return try record(updates, settling: intent, as: outcome, now: now, sent: sent)
            }
            keyed.append((id, update))
        }
        try ledger.recordAnswer(run: run, provider: provider, keyed, intent: intent, outcome: outcome, now: now, sent: sent)
    }

    /// Records a worker's held clear answer (settled) and commits the write-ahead intent of its next chunk `pairs`,
    /// in one transaction: the one commit a domain of a one-domain-a-call lane costs, where the answer and the
    /// intent each had their own. Both land or neither does. Returns the intent's id.
    func record(_ answer: Lane.UnrecordedAnswer, thenBeginSend pairs: [PairRow], now: Date) throws -> Int64 {
        try commitTogether([LaneCommitter.Entry(answer: answer, pairs: pairs, now: now)])[0]
    }

    /// Commits, in one transaction, for each entry (in order) its held answer if any (settled, as
    /// ``record(_:of:settling:as:now:sent:)`` records it) and the write-ahead intent of its next chunk: the
    /// commit several workers of a lane share (``LaneCommitter``). All of them land or none does. Returns the
    /// intents' ids, in the entries' order. An answer with an update for a domain not in its chunk (never from
    /// the lane) is recorded on its own first.
    func commitTogether(_ entries: [LaneCommitter.Entry]) throws -> [Int64] {
        var answers: [(answer: Lane.UnrecordedAnswer, keyed: [(id: Int, update: PairUpdate)])?] = []
        answers.reserveCapacity(entries.count)
        for entry in entries {
            guard let answer = entry.answer else {
                answers.append(nil)
                continue
            }
            if let keyed = Self.keyed(answer.updates, of: answer.pairs) {
                answers.append((answer, keyed))
            } else {
                try record(answer.updates, settling: answer.intent, as: .settled, now: answer.answeredAt, sent: answer.sent)
                answers.append(nil)
            }
        }
        return try ledger.laneTransaction(run: run) { db in
            var intents: [Int64] = []
            intents.reserveCapacity(entries.count)
            for (entry, answer) in zip(entries, answers) {
                if let answer {
                    let held = answer.answer
                    try ledger.recordAnswer(
                        run: run, provider: provider, answer.keyed, intent: held.intent, outcome: .settled, now: held.answeredAt, sent: held.sent,
                        within: db)
                }
                intents.append(try ledger.beginSend(
                    run: run, provider: provider, pairs: entry.pairs.map { (id: $0.seq, domain: $0.item.domain) }, now: entry.now, within: db))
            }
            return intents
        }
    }

    /// `updates` keyed by the ids of their pairs in `pairs`; nil when one names a domain that is not there.
    private static func keyed(_ updates: [PairUpdate], of pairs: [PairRow]) -> [(id: Int, update: PairUpdate)]? {
        var ids: [DomainName: Int] = [:]
        ids.reserveCapacity(pairs.count)
        for pair in pairs { ids[pair.item.domain] = pair.seq }
        var keyed: [(id: Int, update: PairUpdate)] = []
        keyed.reserveCapacity(updates.count)
        for update in updates {
            guard let id = ids[update.domain] else { return nil }
            keyed.append((id, update))
        }
        return keyed
    }
}

extension Ledger {
    /// The view a lane works through.
    func lane(run: String, provider: ProviderID) -> LaneLedger {
        LaneLedger(ledger: self, run: run, provider: provider, checkpointer: WALCheckpointer(path: path))
    }
}

/// Copies committed WAL pages into the database file from a connection of its own, off the lanes' path.
///
/// Left to itself, SQLite checkpoints at the end of the commit that grows the WAL past 1,000 pages: for a lane
/// that sends one request at a time (Dynadot) that is an answer's commit, between two requests, with two fsyncs
/// (tens of milliseconds on a busy disk), about every tenth answer (each answer bumps the result version of a
/// hundred names, a page each). A passive checkpoint from another connection takes no writer lock, so commits go
/// on while it runs; started as a request leaves, it overlaps the request, and keeps the WAL short (the next
/// writer restarts a WAL that is copied in full), so the writer's own checkpoint rarely comes due. Crash-safe as
/// any checkpoint: SQLite copies only committed pages, and a copy cut short is redone from the WAL.
final class WALCheckpointer: @unchecked Sendable {
    let path: String
    private let lock = NSLock()
    /// Guarded by `lock`: one copy at a time per lane.
    private var running = false
    /// Guarded by `lock`: when the last copy started. A copy writes the pages it finds and syncs twice, so a lane
    /// that sends many requests a second copies at most every `interval`, each page changed in between once.
    ///
    /// Half a second: a one-domain-a-call lane rewrites the same few pages (the pairs' leaf, their index entries,
    /// the last pages of intents and result marks) in every commit, so a copy every 100 ms copied those pages five
    /// times as often, with five times the syncs, for nothing (Yay, 3,000 domains at 50 ms, 8 in flight, four runs
    /// each alternately: 430 → 407 µs of CPU per domain, 395 at 2 s). Longer is not taken: a one-domain-a-call lane
    /// at full speed commits about 1,000 WAL frames a second, and past 1,000 frames SQLite's own checkpoint runs in
    /// the committing writer, on the lane's path.
    private var lastStart: ContinuousClock.Instant?
    let interval: Duration
    /// Guarded by `running`: opened by the first copy, so that a lane that never sends opens no connection.
    private var queue: DatabaseQueue?

    init(path: String, interval: Duration = .milliseconds(500)) {
        self.path = path
        self.interval = interval
    }

    /// Starts a passive checkpoint on a thread outside Swift's cooperative pool unless one is running or started
    /// less than `interval` ago; never waits.
    func start() {
        let now = ContinuousClock.now
        lock.lock()
        let due = !running && lastStart.map { now - $0 >= interval } ?? true
        if due {
            running = true
            lastStart = now
        }
        lock.unlock()
        guard due else { return }
        DispatchQueue.global(qos: .utility).async { [self] in
            // Busy (another lane's copy is under way) or failed: a later request tries again, and SQLite's own
            // checkpoint at the end of a commit is still there behind it.
            _ = try? checkpoint()
            lock.lock()
            running = false
            lock.unlock()
        }
    }

    /// One passive checkpoint, now, on this thread: the pages in the WAL and how many of them are in the database
    /// file now. Only `start`'s copy (or a test, with none under way) calls it.
    func checkpoint() throws -> (walFrames: Int, copied: Int) {
        if queue == nil {
            // Never makes a ledger: opening a file that is gone would create an empty one.
            guard FileManager.default.fileExists(atPath: path) else { throw CocoaError(.fileNoSuchFile) }
            queue = try DatabaseQueue(path: path)
        }
        return try queue!.writeWithoutTransaction { db in
            let result = try db.checkpoint(.passive)
            return (result.walFrameCount, result.checkpointedFrameCount)
        }
    }
}
