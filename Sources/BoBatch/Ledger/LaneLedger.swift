import Foundation

/// The ledger as one lane sees it: its run and its provider, fixed once. Each call is exactly one ledger call
/// (one transaction); the view holds no state of its own.
struct LaneLedger: Sendable {
    let ledger: Ledger
    let run: String
    let provider: ProviderID

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

    /// Records outcomes that settle no intent (lookups, requeues, policy, giving up).
    func record(_ updates: [PairUpdate], now: Date) throws {
        try ledger.record(run: run, provider: provider, updates, now: now)
    }

    /// Records the outcomes of a create and settles its intent, in one transaction.
    func record(_ updates: [PairUpdate], settling intent: Int64, as outcome: IntentOutcome, now: Date) throws {
        try ledger.record(run: run, provider: provider, updates, intent: intent, intentOutcome: outcome, now: now)
    }
}

extension Ledger {
    /// The view a lane works through.
    func lane(run: String, provider: ProviderID) -> LaneLedger {
        LaneLedger(ledger: self, run: run, provider: provider)
    }
}
