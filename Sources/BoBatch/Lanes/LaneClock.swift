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
