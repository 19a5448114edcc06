import Foundation

/// Exponential backoff with full jitter (a uniformly random wait up to the exponential ceiling), so that
/// many lanes retrying at once spread out; a provider's `Retry-After` is honoured as given.
public struct Backoff: Sendable, Equatable {
    /// The ceiling of the first wait.
    public var base: Double
    /// The longest wait.
    public var cap: Double

    public init(base: Double = 1, cap: Double = 60) {
        self.base = base
        self.cap = cap
    }

    /// The wait before retry number `attempt` (1-based). `random` is in 0..<1.
    public func delay(attempt: Int, retryAfter: Double?, random: Double) -> Double {
        if let retryAfter { return min(max(retryAfter, 0), 3600) }
        let ceiling = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return ceiling * min(max(random, 0), 1)
    }
}
