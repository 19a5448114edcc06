import Foundation

/// Time as a lane sees it, injectable so pacing and backoff are tested without real sleeping.
public protocol LaneClock: Sendable {
    /// Monotonic seconds.
    func now() -> Double
    /// Sleeps; throws when the task is cancelled.
    func sleep(seconds: Double) async throws
}

public struct SystemLaneClock: LaneClock {
    public init() {}
    public func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
    }
}

/// Exponential backoff with full jitter (a uniformly random wait up to the exponential ceiling), so that
/// many lanes retrying at once spread out; a provider's `Retry-After` is honoured as given.
public struct Backoff: Sendable, Equatable {
    public var base: Double
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

/// Spaces request starts so that a lane stays within its requests-per-minute, across all of its workers.
actor RequestPacer {
    private let interval: Double
    private let clock: any LaneClock
    private var nextStart: Double?
    private var pausedUntil: Double = 0

    init(requestsPerMinute: Double, clock: any LaneClock) {
        interval = requestsPerMinute > 0 ? 60 / requestsPerMinute : 0
        self.clock = clock
    }

    /// Holds every worker until `seconds` from now (a refusal or Retry-After applies to the whole account).
    func pause(seconds: Double) {
        pausedUntil = max(pausedUntil, clock.now() + seconds)
    }

    /// Waits for this request's slot.
    func acquire() async throws {
        let now = clock.now()
        let slot = max(now, nextStart ?? now, pausedUntil)
        nextStart = slot + interval
        if slot > now { try await clock.sleep(seconds: slot - now) }
    }
}
