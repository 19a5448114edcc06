import GRDB

/// Where one (provider, domain) pair stands. The public vocabulary of PROVIDERS.md plus the two working
/// states the ledger needs: `pending` (not sent yet, or proven absent) and `sending` (intent committed,
/// answer not recorded yet: after a crash it becomes `unknown` and is reconciled before anything is resent).
/// The raw values are what the ledger stores: never change one.
public enum PairState: String, Sendable, Codable, CaseIterable, Comparable, DatabaseValueConvertible {
    case pending, sending, unknown, accepted, already, rejected, failed, skipped

    /// States a rerun leaves alone: the provider has spoken, or the pair was deliberately not sent.
    public var isSettled: Bool {
        switch self {
        case .accepted, .already, .rejected, .skipped: true
        case .pending, .sending, .unknown, .failed: false
        }
    }

    /// The state as result files and the summary show it: the vocabulary has no working states,
    /// so a pair that is not done yet reads as `unknown` (rerun to continue).
    public var reported: String {
        switch self {
        case .pending, .sending: "unknown"
        default: rawValue
        }
    }

    public static func < (lhs: PairState, rhs: PairState) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Why a pair is where it is: the ledger's `pairs.code`, shown as `code` in result files. The raw values are what
/// the ledger stores and result files show: never change one.
public enum PairCode: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    // The provider's verdict on a create.
    case ok, already, rejected, skipped
    /// The provider's answer did not mention the domain.
    case noVerdict = "no-verdict"
    /// Refused before anything was done (rate limit, busy): pending again, or failed once refusals ran out.
    case refused
    /// No usable answer: the create may have landed.
    case unclear
    /// The request failed as a whole; each domain is reconciled, then isolated.
    case batchError = "batch-error"
    /// The lane halted (an account problem): failed until the fix and a rerun.
    case halted
    /// Put back to be sent again (proven absent, or isolating a failed batch).
    case requeued
    /// Skipped by the provider's policy before anything was sent (1API's cutoff).
    case policy
    /// Not sent: a `--max-domains` or `--max-spend` cap was reached under `--cap-mode first`. A rerun whose cap
    /// allows it (a higher cap, or none) sends it; a rerun with the same cap does not.
    case cap
    /// Proven absent too many times in this invocation: failed.
    case attempts
    /// Found at the provider by a lookup: accepted.
    case lookup
    /// Sent twice without an answer to a provider that has no lookup (DNSPod): only a person can check it.
    case noLookup = "no-lookup"
    /// The lookup that would settle it failed: a rerun checks again.
    case lookupFailed = "lookup-failed"
}

/// How a create's write-ahead intent ended: the ledger's `intents.outcome`. The raw values are what the ledger
/// stores: never change one.
public enum IntentOutcome: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// The provider answered with verdicts.
    case settled
    /// Refused before anything was done.
    case refused
    /// No usable answer: it may have landed.
    case unclear
    /// The request failed as a whole.
    case batchFailed = "batch-failed"
    /// The lane halted.
    case halt
}
