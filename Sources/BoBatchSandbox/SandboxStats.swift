import Foundation
import NIOCore

/// What the sandbox saw, for tests and benchmarks (also served as JSON by `GET /_sandbox/stats`).
///
/// Provider names are those of ``SandboxServer/endpoint(for:)``. Counts add up over every account of a provider.
public struct SandboxStats: Sendable, Codable, Equatable {
    /// provider → domain → number of effective creates: creates that added the domain to the fake's list (for
    /// DNSPod: verification mails sent). A number above 1 means the client placed the same backorder twice.
    public var creates: [String: [String: Int]]
    /// provider → domain → number of effective cancels: cancels that removed a held order from the fake's list.
    /// A number above 1 means the client withdrew the same order twice (after placing it again in between).
    public var cancels: [String: [String: Int]]
    /// provider → command or operation (Dynadot `add_backorder_request`, Gname `add`, Yay `POST /dom/back-order`,
    /// 1API `AddDomainApplication`, DNSPod `Domain.Acquiresend`, ...) → requests received, whatever their outcome.
    public var requests: [String: [String: Int]]
    /// Yay POSTs that were processed (each is charged by the real Yay, whatever its answer).
    public var charges: Int
    /// provider → fault kind (``FaultKind`` raw values) → times injected.
    public var faults: [String: [String: Int]]
    /// provider → requests refused because another request of the same account was processing (Dynadot's one
    /// request at a time). A well-behaved client keeps this at 0 unless another client shares the key.
    public var busyRejections: [String: Int]
    /// provider → requests being handled right now.
    public var inFlight: [String: Int]
    /// provider → the most requests handled at once.
    public var peakInFlight: [String: Int]
    /// provider → create requests waiting at a closed hold gate (``SandboxServer/holdCreates(for:)``).
    public var held: [String: Int]
    /// provider → when its first request arrived since start or reset (seconds since 1970).
    public var firstRequestAt: [String: Double]
    /// provider → when its latest request was answered. With ``firstRequestAt``, the span a client kept the
    /// provider busy: what a benchmark divides by to tell a lane's throughput apart from its start-up and wind-down.
    public var lastAnswerAt: [String: Double]
    /// provider → the seconds its requests spent in the server, added up over requests (two at once count
    /// twice). Over ``lastAnswerAt`` − ``firstRequestAt`` times the client's requests in flight, the share of the
    /// time the client kept the provider working: what a lane's own overhead between requests takes away,
    /// whatever the server's time per request (a benchmark's "occupancy").
    public var busySeconds: [String: Double]

    public init() {
        creates = [:]
        cancels = [:]
        requests = [:]
        charges = 0
        faults = [:]
        busyRejections = [:]
        inFlight = [:]
        peakInFlight = [:]
        held = [:]
        firstRequestAt = [:]
        lastAnswerAt = [:]
        busySeconds = [:]
    }

    /// Effective creates of `domain` at `provider`.
    public func createCount(_ provider: String, _ domain: String) -> Int {
        creates[provider]?[domain] ?? 0
    }

    /// Effective cancels of `domain` at `provider`.
    public func cancelCount(_ provider: String, _ domain: String) -> Int {
        cancels[provider]?[domain] ?? 0
    }

    /// Effective creates at `provider`, all domains.
    public func totalCreates(_ provider: String) -> Int {
        creates[provider]?.values.reduce(0, +) ?? 0
    }

    /// Requests of `command` received by `provider`.
    public func requestCount(_ provider: String, _ command: String) -> Int {
        requests[provider]?[command] ?? 0
    }

    /// Times `fault` was injected at `provider`.
    public func faultCount(_ provider: String, _ fault: FaultKind) -> Int {
        faults[provider]?[fault.rawValue] ?? 0
    }

    enum CodingKeys: String, CodingKey {
        case creates, cancels, requests, charges, faults, busyRejections, inFlight, peakInFlight, held, firstRequestAt, lastAnswerAt, busySeconds
    }

    /// Missing keys decode as empty, so a reader built against an older or newer sandbox still works.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        creates = try c.decodeIfPresent([String: [String: Int]].self, forKey: .creates) ?? [:]
        cancels = try c.decodeIfPresent([String: [String: Int]].self, forKey: .cancels) ?? [:]
        requests = try c.decodeIfPresent([String: [String: Int]].self, forKey: .requests) ?? [:]
        charges = try c.decodeIfPresent(Int.self, forKey: .charges) ?? 0
        faults = try c.decodeIfPresent([String: [String: Int]].self, forKey: .faults) ?? [:]
        busyRejections = try c.decodeIfPresent([String: Int].self, forKey: .busyRejections) ?? [:]
        inFlight = try c.decodeIfPresent([String: Int].self, forKey: .inFlight) ?? [:]
        peakInFlight = try c.decodeIfPresent([String: Int].self, forKey: .peakInFlight) ?? [:]
        held = try c.decodeIfPresent([String: Int].self, forKey: .held) ?? [:]
        firstRequestAt = try c.decodeIfPresent([String: Double].self, forKey: .firstRequestAt) ?? [:]
        lastAnswerAt = try c.decodeIfPresent([String: Double].self, forKey: .lastAnswerAt) ?? [:]
        busySeconds = try c.decodeIfPresent([String: Double].self, forKey: .busySeconds) ?? [:]
    }
}

/// The counters behind ``SandboxStats``.
final class StatsRecorder: Sendable {
    private let state = Locked(SandboxStats())

    func snapshot() -> SandboxStats { state.withLock { $0 } }

    func reset() {
        state.withLock { stats in
            let inFlight = stats.inFlight
            stats = SandboxStats()
            stats.inFlight = inFlight.filter { $0.value > 0 }
        }
    }

    func request(_ provider: String, _ command: String) {
        state.withLock { $0.requests[provider, default: [:]][command, default: 0] += 1 }
    }

    func create(_ provider: String, _ domain: String) {
        state.withLock { $0.creates[provider, default: [:]][domain, default: 0] += 1 }
    }

    /// A cancel that removed `domain`'s held order (call it only then, as ``create(_:_:)`` only for effective creates).
    func cancel(_ provider: String, _ domain: String) {
        state.withLock { $0.cancels[provider, default: [:]][domain, default: 0] += 1 }
    }

    func charge() {
        state.withLock { $0.charges += 1 }
    }

    func fault(_ provider: String, _ kind: FaultKind) {
        state.withLock { $0.faults[provider, default: [:]][kind.rawValue, default: 0] += 1 }
    }

    func busyRejection(_ provider: String) {
        state.withLock { $0.busyRejections[provider, default: 0] += 1 }
    }

    /// A request of `provider` entered the server at `arrived` (see ``ConnectionAnswerClock``).
    func begin(_ provider: String, arrived: NIODeadline) {
        let wall = Date().timeIntervalSince1970 - Self.seconds(.now() - arrived)
        state.withLock { stats in
            let now = stats.inFlight[provider, default: 0] + 1
            stats.inFlight[provider] = now
            stats.peakInFlight[provider] = max(stats.peakInFlight[provider, default: 0], now)
            if stats.firstRequestAt[provider] == nil { stats.firstRequestAt[provider] = wall }
        }
    }

    /// The answer to the request that arrived at `arrived` left now.
    func end(_ provider: String, arrived: NIODeadline) {
        let seconds = Self.seconds(.now() - arrived)
        state.withLock { stats in
            stats.inFlight[provider, default: 1] -= 1
            stats.lastAnswerAt[provider] = Date().timeIntervalSince1970
            stats.busySeconds[provider, default: 0] += seconds
        }
    }

    private static func seconds(_ amount: TimeAmount) -> Double { Double(amount.nanoseconds) / 1e9 }
}
