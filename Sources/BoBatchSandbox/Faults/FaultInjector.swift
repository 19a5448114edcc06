import Foundation

/// Whether a request creates something (faults apply by default) or only reads or deletes (faults apply only
/// with ``ProviderFaults/applyToLookups``).
enum RequestKind: Sendable {
    case create
    case lookup
    /// Withdrawing an order: faults always apply (as to creates), hold gates do not.
    case cancel
}

/// The fault chosen for one request.
struct FaultDecision: Sendable {
    var fault: FaultKind?
    var latencyMs: Int
    /// Picks among a fault's variants (which refuse answer, 500 or 502, which hostile body).
    var variant: UInt64
    var hangSeconds: Double
    var hostileBodyBytes: Int
    var retryAfterSeconds: Int = 1

    static let clean = FaultDecision(fault: nil, latencyMs: 0, variant: 0, hangSeconds: 0, hostileBodyBytes: 0)
}

/// Decides, deterministically from the seed, which fault hits a request; keeps the per-account rate windows.
final class FaultInjector: Sendable {
    let seed: UInt64
    private let plan: Locked<FaultPlan>
    private let attempts = Locked([String: Int]())
    private let rateWindows = Locked([String: [TimeInterval]]())
    let stats: StatsRecorder

    init(seed: UInt64, plan: FaultPlan, stats: StatsRecorder) {
        self.seed = seed
        self.plan = Locked(plan)
        self.stats = stats
    }

    var currentPlan: FaultPlan { plan.withLock { $0 } }

    func replacePlan(_ newPlan: FaultPlan) {
        plan.withLock { $0 = newPlan }
    }

    func reset() {
        attempts.withLock { $0.removeAll() }
        rateWindows.withLock { $0.removeAll() }
    }

    func faults(for provider: String) -> ProviderFaults {
        plan.withLock { $0.faults(for: provider) }
    }

    /// The account failure every request of this provider gets, if the plan has one (counted).
    func accountFailure(_ provider: String) -> AccountFailure? {
        guard let failure = faults(for: provider).accountFailure else { return nil }
        stats.fault(provider, .accountFailure)
        return failure
    }

    /// Records the request in the account's 60-second window; true when it is over the plan's limit (counted).
    func overRateLimit(_ provider: String, account: String, now: Date = Date()) -> Bool {
        guard let limit = faults(for: provider).requestsPerMinute else { return false }
        let time = now.timeIntervalSince1970
        let over = rateWindows.withLock { windows -> Bool in
            let key = provider + "|" + account
            var window = windows[key, default: []].filter { time - $0 < 60 }
            let over = window.count >= limit
            if !over { window.append(time) }
            windows[key] = window
            return over
        }
        if over { stats.fault(provider, .rateLimited) }
        return over
    }

    /// A draw in 0..<1 that depends only on the seed and the parts.
    func draw(_ parts: String...) -> Double {
        StableRandom.unit(seed: seed, parts)
    }

    /// The fault for this request. `contentKey` identifies what the request asks for (its domains); the n-th
    /// request with the same content always gets the same decision.
    func decide(_ provider: String, kind: RequestKind, account: String, contentKey: String) -> FaultDecision {
        let faults = faults(for: provider)
        if kind == .lookup && !faults.applyToLookups { return .clean }
        let key = [provider, account, contentKey].joined(separator: "|")
        let attempt = attempts.withLock { counts -> Int in
            counts[key, default: 0] += 1
            return counts[key]!
        }
        let parts = [provider, account, contentKey, String(attempt)]
        var decision = FaultDecision.clean
        decision.variant = StableRandom.value(seed: seed, parts + ["variant"])
        decision.hangSeconds = faults.hangSeconds
        decision.hostileBodyBytes = faults.hostileBodyBytes
        decision.retryAfterSeconds = faults.retryAfterSeconds
        if let latency = faults.latency {
            decision.latencyMs = latency.milliseconds(draw: StableRandom.unit(seed: seed, parts + ["latency"]))
        }
        let roll = StableRandom.unit(seed: seed, parts + ["fault"])
        var threshold = 0.0
        for (fault, probability) in faults.weightedFaults where probability > 0 {
            threshold += probability
            if roll < threshold {
                decision.fault = fault
                stats.fault(provider, fault)
                break
            }
        }
        return decision
    }
}
