import Foundation

/// What one provider's follow-up lane did in a `refresh` or `cancel` invocation: the printed summary and the exit
/// code (``FollowUpFacts``) are made from it.
public struct FollowUpReport: Sendable {
    public var provider: ProviderID
    /// Set when the lane stopped on an account-level error.
    public var halt: (reason: String, fix: String)?
    /// The provider offers no such call (its note): nothing was asked or sent.
    public var notOffered: String?
    /// Refresh or cancel requests sent, and lookups that settled unclear cancels.
    public var requests = 0
    public var lookups = 0
    public var busyPolls = 0
    /// Orders asked about (refresh) or selected for withdrawal (cancel).
    public var orders = 0
    /// refresh: reports recorded; cancel: orders withdrawn now (or found already gone).
    public var answered = 0
    /// refresh: fates that changed.
    public var changed = 0
    /// Orders a rerun can still move (no answer, refusals ran out, an unclear cancel the lookup could not settle).
    public var incomplete = 0
    /// Orders that cannot be done as asked (cancel refused, won, no cancel, fate unknown, no lookup).
    public var notPossible = 0
    /// cancel: orders whose fate was already final (cancelled, lost, redeemed, gone): nothing to withdraw.
    public var nothingToDo = 0
    /// A few lines saying why, per order (won: cannot be cancelled; the provider's refusal), at most ``maxNotes``.
    public var notes: [String] = []
    public var moreNotes = 0

    public static let maxNotes = 20

    public init(provider: ProviderID) { self.provider = provider }

    mutating func note(_ text: String) {
        if notes.count < Self.maxNotes { notes.append(text) } else { moreNotes += 1 }
    }
}

/// A follow-up lane's report, shared by its workers.
actor FollowUpTally {
    private(set) var report: FollowUpReport

    init(provider: ProviderID) { report = FollowUpReport(provider: provider) }

    func update(_ change: @Sendable (inout FollowUpReport) -> Void) { change(&report) }
}

/// Which orders `cancel` withdraws: every placed order of `runs` whose fate is not final, narrowed to `domains`
/// (ASCII names) when given.
public struct CancelSelection: Sendable {
    public var runs: [String]
    public var domains: Set<String>?

    public init(runs: [String], domains: Set<String>? = nil) {
        self.runs = runs
        self.domains = domains
    }
}

/// What `cancel` would do at one provider (its `--dry-run` and the confirmation prompt say it).
public struct CancelPlan: Sendable {
    public var provider: ProviderID
    /// Orders to withdraw: never asked, asked and refused before anything was done, or proven still held.
    public var toSend: [String: [PlacedOrderRow]] = [:]
    /// Orders an earlier cancel left unclear (or interrupted): settled by lookup first.
    public var toSettle: [String: [PlacedOrderRow]] = [:]
    /// `won`: cannot be cancelled.
    public var won: [PlacedOrderRow] = []
    /// Refused by the provider before (its reason kept): not sent again.
    public var refusedBefore: [(row: PlacedOrderRow, message: String)] = []
    /// Already final: cancelled, lost, redeemed or gone.
    public var final = 0
    /// The provider's API has no cancel (its note); `toSend` then holds what cannot be withdrawn.
    public var notOffered: String?

    public var sendCount: Int { toSend.values.reduce(0) { $0 + $1.count } }
    public var settleCount: Int { toSettle.values.reduce(0) { $0 + $1.count } }
}
