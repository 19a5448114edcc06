/// The exit codes a cron job can act on. Each case's code and ``meaning`` are the one source of the exit-code
/// table in README.md (a test compares them row by row) and in `bo-batch --help` / `submit --help` (generated).
public enum ExitStatus: Int32, Sendable, Codable, CaseIterable {
    /// Every pair accepted or already placed (or nothing to do).
    case success = 0
    /// Finished, but some pairs were rejected or skipped, some are `unknown` for good (no lookup can settle them),
    /// or some input was not a domain.
    case someRejected = 1
    /// Usage or configuration error; nothing was sent.
    case usage = 2
    /// Incomplete: something is still pending or unknown, or the run was interrupted. Rerun the same command.
    case incomplete = 3
    /// A provider lane halted on an account-level error (credentials, funds, IP) and needs a person.
    case halted = 4
    /// Finished (as 0 or 1 would say), but some result files could not be written. Not 1, which a daily drop
    /// list almost always ends with, so it would go unnoticed; not 3, since a rerun cannot fix a full disk or a
    /// directory in the way, and a cron loop on 3 would never end.
    case resultFilesUnwritten = 5
    /// Another bo-batch run holds the state directory's lock.
    case locked = 75

    /// The short meaning: README's table, the help texts, `summary.json`'s `exit_meaning`, the printed summary.
    public var meaning: String {
        switch self {
        case .success: "every domain placed (accepted or already) at every provider, or nothing to do"
        case .someRejected: "finished, but some domains were rejected, skipped or cannot be checked, or some input was not a domain"
        case .usage: "usage or configuration error; nothing was sent"
        case .incomplete: "incomplete: something is still pending or unknown; rerun the same command to continue"
        case .halted: "a provider lane halted on an account-level error (credentials, funds, IP whitelist); fix it, then rerun"
        case .resultFilesUnwritten: "finished, but some result files could not be written (result_file_errors in summary.json); fix the cause, then rerun"
        case .locked: "another bo-batch run holds the lock on the state directory"
        }
    }

    /// The one place that turns what a run ended with into its exit code. Every command asks here: `submit`
    /// (summary.json, the printed summary and the process exit), `submit --dry-run`, and `status`.
    ///
    /// Precedence, first match wins:
    /// 0. a cap stopped the run before anything was sent (`--max-domains`, `--max-spend`; a dry run too): 2;
    /// 1. a dry run judges the input only (nothing was sent, so every pair is still to send): 1 if some input
    ///    was not a domain, else 0; then 5 if a result file could not be written;
    /// 2. a lane halted on an account-level error: 4 (a rerun alone would halt again; a person must act);
    /// 3. interrupted (SIGINT/SIGTERM): 3, whatever the ledger says;
    /// 4. a pair a rerun can still move (pending, sending, failed, or `unknown` with a lookup to ask): 3;
    /// 5. a result file could not be written: 5 (a rerun writes it once the cause is fixed; not before 3 and 4,
    ///    which already ask for a rerun or a person);
    /// 6. a pair rejected or skipped, an `unknown` pair no lookup can settle (final, with its reason), or an
    ///    input that is not a domain: 1;
    /// 7. otherwise 0.
    public static func decide(_ facts: ExitFacts) -> ExitStatus {
        let invocation = facts.invocation
        if invocation.capStopped { return .usage }
        let finished: ExitStatus
        if invocation.dryRun {
            finished = facts.invalidInputs > 0 ? .someRejected : .success
        } else if !invocation.haltedLanes.isEmpty {
            return .halted
        } else if invocation.interrupted || facts.resumable > 0 {
            return .incomplete
        } else {
            // Nothing is resumable, so every pair not settled is final with its reason (DNSPod, no lookup).
            let all = facts.counts.values.reduce(into: [PairState: Int]()) { acc, c in acc.merge(c, uniquingKeysWith: +) }
            let notPlaced = all.filter { state, _ in state != .accepted && state != .already }.values.reduce(0, +)
            finished = notPlaced > 0 || facts.invalidInputs > 0 ? .someRejected : .success
        }
        return invocation.unwrittenResultFiles > 0 ? .resultFilesUnwritten : finished
    }

    /// The meaning shown with ``decide(_:)``'s code: its ``meaning``, said more precisely for a dry run and an
    /// interruption. Derived from the decision, so the two cannot disagree.
    public static func meaning(of facts: ExitFacts) -> String {
        let status = decide(facts)
        if facts.invocation.capStopped {
            return "stopped by a cap before anything was sent: the plan is over --max-domains/--max-spend, or a spend cap needs a price not stated (plan.json says which)"
        }
        if facts.invocation.dryRun, status != .resultFilesUnwritten {
            return "dry run: input read, checked and recorded; nothing sent" + (facts.invalidInputs > 0 ? "; some input is not a domain (invalid.tsv)" : "")
        }
        if facts.invocation.interrupted, status == .incomplete {
            return "interrupted: " + ExitStatus.incomplete.meaning
        }
        return status.meaning
    }
}

/// Everything a run's exit code depends on; ``ExitStatus/decide(_:)`` turns it into the code.
public struct ExitFacts: Sendable, Equatable {
    /// Pairs per provider and state, as the ledger holds them.
    public var counts: [ProviderID: [PairState: Int]]
    /// Of the pairs not settled, those a rerun can still move (``Ledger/resumableCount(run:)``); the others are
    /// `unknown` pairs no lookup can settle (DNSPod sent twice without an answer), final with their reason.
    public var resumable: Int
    /// Input lines (or files) that were not a domain.
    public var invalidInputs: Int
    /// What only the invocation itself knows; the ledger keeps the last one's for `bo-batch status`.
    public var invocation: InvocationFacts

    public init(counts: [ProviderID: [PairState: Int]], resumable: Int, invalidInputs: Int, invocation: InvocationFacts = InvocationFacts()) {
        self.counts = counts
        self.resumable = resumable
        self.invalidInputs = invalidInputs
        self.invocation = invocation
    }
}

/// The facts of one `submit` invocation that the pairs do not show.
public struct InvocationFacts: Sendable, Equatable, Codable {
    /// `--dry-run`: nothing was sent.
    public var dryRun: Bool
    /// Lanes that halted on an account-level error in this invocation.
    public var haltedLanes: [ProviderID]
    /// The first SIGINT/SIGTERM stopped the lanes before they ran out of work.
    public var interrupted: Bool
    /// Result files (domain files, `invalid.tsv`, `summary.json`) this invocation could not write.
    public var unwrittenResultFiles: Int
    /// The plan was over a cap (or a spend cap met an unknown price), so nothing was sent: exit 2.
    public var capStopped: Bool

    public init(dryRun: Bool = false, haltedLanes: [ProviderID] = [], interrupted: Bool = false, unwrittenResultFiles: Int = 0, capStopped: Bool = false) {
        self.dryRun = dryRun
        self.haltedLanes = haltedLanes
        self.interrupted = interrupted
        self.unwrittenResultFiles = unwrittenResultFiles
        self.capStopped = capStopped
    }

    enum CodingKeys: String, CodingKey { case dryRun, haltedLanes, interrupted, unwrittenResultFiles, capStopped }

    /// Ledgers hold the facts of invocations made before caps existed: `capStopped` may be missing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dryRun = try c.decode(Bool.self, forKey: .dryRun)
        haltedLanes = try c.decode([ProviderID].self, forKey: .haltedLanes)
        interrupted = try c.decode(Bool.self, forKey: .interrupted)
        unwrittenResultFiles = try c.decode(Int.self, forKey: .unwrittenResultFiles)
        capStopped = try c.decodeIfPresent(Bool.self, forKey: .capStopped) ?? false
    }
}

// MARK: - refresh and cancel (issue 11)

/// What a `refresh` or `cancel` invocation ended with; ``ExitStatus/decide(_:)-(FollowUpFacts)`` turns it into the code.
public struct FollowUpFacts: Sendable, Equatable, Codable {
    public enum Command: String, Sendable, Codable { case refresh, cancel }
    public var command: Command
    /// Lanes that halted on an account-level error.
    public var haltedLanes: [ProviderID] = []
    /// The first SIGINT/SIGTERM stopped the lanes before they ran out of work.
    public var interrupted = false
    /// Orders a rerun can still move: asked without an answer (unavailable, refusals ran out, not mentioned), or a
    /// cancel left unclear whose lookup did not answer.
    public var incomplete = 0
    /// Orders that cannot be done as asked: a cancel refused by the provider, a `won` order, a provider with no
    /// cancel, an unclear cancel no lookup can settle; for `refresh`, orders whose fate the provider could not tell.
    public var notPossible = 0
    /// Result files this invocation could not write.
    public var unwrittenResultFiles = 0

    public init(command: Command, haltedLanes: [ProviderID] = [], interrupted: Bool = false, incomplete: Int = 0, notPossible: Int = 0, unwrittenResultFiles: Int = 0) {
        self.command = command
        self.haltedLanes = haltedLanes
        self.interrupted = interrupted
        self.incomplete = incomplete
        self.notPossible = notPossible
        self.unwrittenResultFiles = unwrittenResultFiles
    }
}

extension ExitStatus {
    /// The one place that turns what a `refresh` or `cancel` ended with into its exit code (the usage (2) and lock
    /// (75) codes come before anything is asked, as for `submit`). First match wins:
    /// 1. a lane halted: 4; 2. interrupted, or an order a rerun can still move: 3; 3. a result file unwritten: 5;
    /// 4. an order that cannot be done as asked (refused, won, no cancel, fate unknown): 1; 5. otherwise 0.
    public static func decide(_ facts: FollowUpFacts) -> ExitStatus {
        if !facts.haltedLanes.isEmpty { return .halted }
        if facts.interrupted || facts.incomplete > 0 { return .incomplete }
        if facts.unwrittenResultFiles > 0 { return .resultFilesUnwritten }
        return facts.notPossible > 0 ? .someRejected : .success
    }

    /// The meaning of each code for `refresh` and `cancel`: README's second table and their help texts.
    public var followUpMeaning: String {
        switch self {
        case .success: "every order asked about was answered (refresh) or withdrawn (cancel), or nothing to do"
        case .someRejected: "finished, but some orders cannot be done as asked: a cancel refused, a won order, a provider without cancel, a fate the provider could not tell"
        case .usage: "usage or configuration error (or cancel without --yes); nothing was sent"
        case .incomplete: "incomplete: some orders got no answer or an unclear one; rerun the same command to continue"
        case .halted: "a provider lane halted on an account-level error (credentials, funds, IP whitelist); fix it, then rerun"
        case .resultFilesUnwritten: "finished, but some result files could not be written; fix the cause, then rerun"
        case .locked: "another bo-batch run holds the lock on the state directory"
        }
    }

    /// ``followUpMeaning`` of ``decide(_:)-(FollowUpFacts)``'s code, said more precisely for an interruption.
    public static func meaning(of facts: FollowUpFacts) -> String {
        let status = decide(facts)
        if facts.interrupted, status == .incomplete { return "interrupted: " + status.followUpMeaning }
        return status.followUpMeaning
    }
}
