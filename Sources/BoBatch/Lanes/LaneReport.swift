/// What one lane did in this invocation.
public struct LaneReport: Sendable {
    public var provider: ProviderID
    /// Set when the lane stopped on an account-level error.
    public var halt: (reason: String, fix: String)?
    public var creates: Int = 0
    public var lookups: Int = 0
    public var busyPolls: Int = 0
    /// Creates that ended without verdicts, by class: `refused` (nothing was done: rate limit, busy, no
    /// connection), `maybe_processed` (no usable answer), `batch_failed` (failed as a whole), `account` (a halt).
    public var failures: [String: Int] = [:]
}

/// Live counts for progress lines.
public struct LaneProgress: Sendable {
    public var provider: ProviderID
    public var total: Int
    public var done: Int
    public var doneThisInvocation: Int
    public var startedAt: Double
    public var halted: Bool
    /// The lane's adaptive pacing now (slowed by refusals, and why).
    public var pacer: PacerStatus?
}
