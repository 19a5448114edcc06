/// How a lane paces, retries and gives up. Defaults are safe for real accounts.
public struct LaneSettings: Sendable {
    public var pacing: Pacing
    /// Sends per pair that end without a verdict (maybe processed, then proven absent) before the pair is
    /// reported `failed`.
    public var maxAttempts: Int
    /// Refusals of a pair in a row before it is reported `failed`: refused sends cost nothing at the provider,
    /// only time, so they get a bigger budget than `maxAttempts` (twice it).
    public var maxRefusalsInARow: Int { max(2 * maxAttempts, 2) }
    /// Tries at a lookup before the pairs it should settle are left `unknown` for the next run.
    public var maxLookupAttempts: Int
    public var backoff: Backoff
    /// Polls of an account-busy gate (Dynadot's is_processing) before going ahead anyway.
    public var maxBusyPolls: Int
    /// The longest wait refusals in a row can grow to (and the lane's lowest rate: one request per this many
    /// seconds). `Retry-After` is honoured beyond it.
    public var refusalCap: Double

    public init(pacing: Pacing, maxAttempts: Int = 5, maxLookupAttempts: Int = 5, backoff: Backoff = Backoff(), maxBusyPolls: Int = 30, refusalCap: Double = 60) {
        self.pacing = pacing
        self.maxAttempts = maxAttempts
        self.maxLookupAttempts = maxLookupAttempts
        self.backoff = backoff
        self.maxBusyPolls = maxBusyPolls
        self.refusalCap = refusalCap
    }

    /// The adaptive pacing these settings ask for.
    public var pacingPolicy: PacingPolicy {
        PacingPolicy(ceiling: pacing.requestsPerMinute / 60, base: backoff.base, cap: refusalCap)
    }
}
