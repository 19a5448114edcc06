/// Where one (provider, domain) pair stands. The public vocabulary of PROVIDERS.md plus the two working
/// states the ledger needs: `pending` (not sent yet, or proven absent) and `sending` (intent committed,
/// answer not recorded yet: after a crash it becomes `unknown` and is reconciled before anything is resent).
public enum PairState: String, Sendable, Codable, CaseIterable, Comparable {
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
