import Foundation

/// The pair outcomes a lane has just committed, handed to the ``ResultWriter`` so that it need not read them
/// back from the ledger: in a 10,000-domain Dynadot run at 0 ms, reading every due domain's pairs back was a
/// tenth of the run's CPU, to learn what the lane had held in its hands a moment before.
///
/// The ledger stays the source of truth. The writer still finds the due domains there (``Ledger/dueResults``:
/// which files, their domain rows, what marks them due), writes a file only for what is committed, and marks it
/// written as before; a crash loses the feed with the process, and the rerun writes the files from the ledger.
/// The feed only stands in for a pair's row, and only where it equals that row byte for byte:
/// - an entry is added after the commit that recorded it, by the one lane of a run with a single provider
///   (a run lock keeps every other process out of the ledger meanwhile), and only for a clear answer to the
///   pair's first send: its row then holds exactly the update (no reference from before, one attempt, no fate);
/// - the writer uses it only when the run has exactly this provider (``Ledger/runProviderNames(run:)``), so a
///   domain's file has no other pair, and drops it once the file is marked written;
/// - anything else (a retry, a lookup, a requeue, a second provider) is read from the ledger as before.
///
/// Bounded: past ``capacity`` entries (the periodic flush drains it every few seconds), further answers are
/// simply not fed, and their files are written from the ledger.
final class ResultFeed: @unchecked Sendable {
    /// About 150 bytes an entry: a few megabytes at most, whatever the run's size.
    static let capacity = 20_000

    /// The provider's name as the ledger stores it.
    let provider: String
    private let lock = NSLock()
    /// Guarded by `lock`: by the domain's id in its run.
    private var held: [Int64: PairResultRow] = [:]

    init(provider: ProviderID) {
        self.provider = provider.rawValue
    }

    /// Feeds the committed outcomes of a create's first send: `pairs` as the lane read them (their attempts
    /// before the send), `updates` as recorded, at `now`. Pairs sent before, or with an update that does not
    /// match, are left to the ledger.
    func add(_ updates: [PairUpdate], of pairs: [PairRow], at now: Date) {
        guard updates.count == pairs.count else { return }
        lock.lock()
        defer { lock.unlock() }
        // Room for a few thousand at once rather than a dozen rehashes on the way up.
        if held.isEmpty { held.reserveCapacity(min(Self.capacity, 4_096)) }
        for (pair, update) in zip(pairs, updates) where held.count < Self.capacity {
            // A pair sent before may hold a reference an earlier answer left (kept when this one has none),
            // and its attempts count sends this lane never saw: its row is read instead.
            guard pair.attempts == 0, pair.item.domain == update.domain else { continue }
            held[Int64(pair.seq)] = PairResultRow(
                provider: provider, state: update.state, attempts: 1, code: update.code?.rawValue, message: update.message,
                // Through seconds since 1970, as the ledger stores it and reads it back.
                reference: update.reference, updated: Date(timeIntervalSince1970: now.timeIntervalSince1970))
        }
    }

    /// Guarded by `lock`: rows handed out by ``pair(id:)``, for tests.
    private var hits = 0

    /// The fed row of the domain with id `id`, if any.
    func pair(id: Int64) -> PairResultRow? {
        lock.withLock {
            let row = held[id]
            if row != nil { hits += 1 }
            return row
        }
    }

    /// How many rows the writer took from here instead of the ledger.
    var served: Int { lock.withLock { hits } }

    /// Forgets the rows of domains whose files are marked written.
    func remove(_ ids: some Sequence<Int64>) {
        lock.withLock { for id in ids { held[id] = nil } }
    }

    var count: Int { lock.withLock { held.count } }
}
