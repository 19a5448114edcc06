import Foundation

/// How a lane adapts its request rate to what the provider says, after rclone's pacer and the AWS SDKs'
/// adaptive retry mode.
///
/// A provider that refuses ("too many requests", "too frequent", busy) is asking for a lower rate, not for a
/// pause after every refusal. So a refusal does two things:
/// - the lane's rate drops (multiplied by `decrease`, 0.7 as in CUBIC), once per round: refusals of requests that
///   were already on their way when the rate dropped do not drop it again, so eight requests refused together
///   cut the rate once, not eight times;
/// - the refused request waits before it is resent: exactly the provider's `Retry-After` when it gave one,
///   otherwise a random wait up to `base`, doubled for each refusal in a row (full jitter), up to `cap`.
///
/// Every answer that is not a refusal ends the streak and raises the rate again: quickly (`recovery`) back to
/// where the last refusal came, then gently (`probe`) towards the configured ceiling. A single refusal among
/// hundreds of answers therefore costs one request a short wait and the lane a few seconds at a lower rate.
public struct PacingPolicy: Sendable, Equatable {
    /// The configured ceiling, request starts per second (`<PROVIDER>_RATE` / 60).
    public var ceiling: Double
    /// The ceiling of the first refusal's random wait, in seconds.
    public var base: Double
    /// The longest wait a refusal without `Retry-After` can cause; the rate never falls below one request per `cap`.
    public var cap: Double
    /// What a refusal multiplies the rate by.
    public var decrease: Double
    /// What an answer multiplies the rate by while it is below the rate of the last refusal...
    public var recovery: Double
    /// ...and above it, probing for the provider's limit.
    public var probe: Double

    public init(ceiling: Double, base: Double = 1, cap: Double = 60, decrease: Double = 0.7, recovery: Double = 1.25, probe: Double = 1.05) {
        self.ceiling = max(ceiling, 1e-6)
        self.base = base
        self.cap = max(cap, base)
        self.decrease = decrease
        self.recovery = recovery
        self.probe = probe
    }

    /// The lowest rate a lane falls to.
    var floor: Double { min(ceiling, 1 / cap) }
}

/// What the pacer is doing, for progress lines and logs.
public struct PacerStatus: Sendable, Equatable {
    /// Request starts per second allowed now.
    public var rate: Double
    public var ceiling: Double
    /// Refusals in a row.
    public var streak: Int
    /// The last refusal's reason while the rate is below the ceiling.
    public var reason: String?
    /// Seconds until the latest refused request may be resent (0 when none waits).
    public var wait: Double

    /// True while refusals keep the lane below its configured rate.
    public var slowed: Bool { rate < ceiling * 0.999 }
}

/// Spaces request starts for one lane (all its workers) at the current adaptive rate.
actor LanePacer {
    let policy: PacingPolicy
    private let clock: any LaneClock
    private let random: @Sendable () -> Double

    private var rate: Double
    private var lastStart: Double?
    private var streak = 0
    private var lastRefusal: Double = -.infinity
    private var lastDecrease: Double = -.infinity
    private var rateAtLastRefusal: Double
    private var reason: String?
    private var waitUntil: Double = 0

    init(policy: PacingPolicy, clock: any LaneClock, random: @escaping @Sendable () -> Double) {
        self.policy = policy
        self.clock = clock
        self.random = random
        rate = policy.ceiling
        rateAtLastRefusal = policy.ceiling
    }

    /// Waits for this request's slot; returns its start time (hand it back to `refused(…sentAt:)`).
    /// The spacing is read again after every nap, so a rate that rises meanwhile takes effect at once.
    func acquire() async throws -> Double {
        while true {
            try Task.checkCancellation()
            let now = clock.now()
            let slot = (lastStart ?? -.infinity) + 1 / rate
            if slot <= now {
                lastStart = now
                return now
            }
            try await clock.sleep(seconds: min(slot - now, 1))
        }
    }

    /// A request sent at `sentAt` was refused. Lowers the rate (once per round) and returns how long that
    /// request must wait before it is sent again.
    func refused(reason: String, retryAfter: Double?, sentAt: Double) -> Double {
        let now = clock.now()
        // Refused again after the previous refusal: the streak grows. Refused together with it: same round.
        if sentAt > lastRefusal || streak == 0 { streak += 1 }
        lastRefusal = now
        if sentAt > lastDecrease {
            // The allowed rate, not the rate reached: a lane that waits for refused work sends little, and cutting
            // from that would sink its rate for good. Above what the lane reaches, a cut costs nothing.
            rateAtLastRefusal = rate
            rate = max(policy.floor, rate * policy.decrease)
            lastDecrease = now
        }
        self.reason = reason
        let wait: Double
        if let retryAfter {
            wait = min(max(retryAfter, 0), 3600)
        } else {
            let ceiling = min(policy.cap, policy.base * pow(2, Double(min(streak - 1, 60))))
            wait = ceiling * min(max(random(), 0), 1)
        }
        waitUntil = max(waitUntil, now + wait)
        return wait
    }

    /// An answer that is not a refusal: the streak ends and the rate climbs back towards the ceiling.
    func answered() {
        streak = 0
        guard rate < policy.ceiling else { return }
        rate = min(policy.ceiling, rate * (rate < rateAtLastRefusal ? policy.recovery : policy.probe))
        if rate >= policy.ceiling { reason = nil }
    }

    func status() -> PacerStatus {
        PacerStatus(rate: rate, ceiling: policy.ceiling, streak: streak, reason: reason, wait: max(0, waitUntil - clock.now()))
    }
}
