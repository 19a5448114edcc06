import Foundation

/// What can go wrong, per provider: the sandbox's fault knobs.
///
/// A scenario file is JSON:
///
/// ```json
/// {
///   "description": "flaky Dynadot, slow Yay",
///   "providers": {
///     "dynadot": { "latency": { "minMs": 50, "maxMs": 400 }, "dropAfterProcessing": 0.1, "busyWindow": 3 },
///     "yay":     { "latency": { "ms": 200 }, "refuse": 0.2 },
///     "*":       { "serverErrorAfterProcessing": 0.05 }
///   }
/// }
/// ```
///
/// Provider names are those of ``SandboxServer/endpoint(for:)``: `dynadot`, `gname`, `yay`, `oneapi`, `dnspod`;
/// `*` applies to every provider that has no entry of its own. Unknown keys are errors, so a typo cannot silently
/// turn a fault off.
///
/// Every random choice is a function of ``SandboxOptions/seed``, the provider, the request's content (its
/// domains) and how many times that same content was seen before. The same run against the same seed sees the
/// same faults, whatever the interleaving of concurrent lanes; a retry of the same request draws again.
public struct FaultPlan: Sendable, Codable, Equatable {
    /// Free text for humans.
    public var description: String?
    public var providers: [String: ProviderFaults]

    public static let none = FaultPlan()

    public init(description: String? = nil, providers: [String: ProviderFaults] = [:]) {
        self.description = description
        self.providers = providers
    }

    /// The faults for one provider: its own entry, else the `*` entry, else none.
    public func faults(for provider: String) -> ProviderFaults {
        providers[provider] ?? providers["*"] ?? ProviderFaults()
    }

    public static func load(path: String) throws -> FaultPlan {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FaultPlanError(message: "cannot read fault plan \(path): \(error.localizedDescription)")
        }
        do {
            return try FaultPlan(json: data)
        } catch let error as FaultPlanError {
            throw FaultPlanError(message: "\(path): \(error.message)")
        }
    }

    public init(json: Data) throws {
        do {
            self = try JSONDecoder().decode(FaultPlan.self, from: json)
        } catch let error as FaultPlanError {
            throw error
        } catch {
            throw FaultPlanError(message: "invalid fault plan JSON: \(error)")
        }
        try validate()
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static let providerNames: Set<String> = ["dynadot", "gname", "yay", "oneapi", "dnspod", "*"]

    public func validate() throws {
        for (name, faults) in providers {
            guard Self.providerNames.contains(name) else {
                throw FaultPlanError(message: "unknown provider \"\(name)\" (known: dynadot, gname, yay, oneapi, dnspod, *)")
            }
            do {
                try faults.validate()
            } catch let error as FaultPlanError {
                throw FaultPlanError(message: "\(name): \(error.message)")
            }
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case description, providers
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.rawValue), context: "fault plan")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        providers = try container.decodeIfPresent([String: ProviderFaults].self, forKey: .providers) ?? [:]
    }
}

/// The faults of one provider. Probabilities are 0...1; at most one of the probabilistic faults hits a request
/// (they are tried in the order below, so their sum must not exceed 1).
public struct ProviderFaults: Sendable, Codable, Equatable {
    /// Each affected request's time in the server: its answer leaves this long after it arrived, the fake's own
    /// work included (a refusal or a drop too). Dynadot holds its "processing" flag meanwhile.
    public var latency: Latency?
    /// Nothing is processed; the provider's "slow down" answer (Dynadot `system_busy`, Gname code -1 "frequency
    /// too high", Yay 429 + Retry-After, 1API 421 or 425, DNSPod -2) or, for some draws, a generic HTTP 503 with
    /// Retry-After.
    public var refuse: Double
    /// Nothing is processed; HTTP 429 with `Retry-After: ` ``retryAfterSeconds``, whatever the provider.
    public var tooManyRequests: Double
    /// Nothing is processed; HTTP 503 with `Retry-After: ` ``retryAfterSeconds``, whatever the provider.
    public var serviceUnavailable: Double
    /// The `Retry-After` of ``tooManyRequests`` and ``serviceUnavailable``, in seconds.
    public var retryAfterSeconds: Int
    /// The request is read, then the connection is closed without an answer; nothing is processed.
    public var dropBeforeProcessing: Double
    /// The request is processed (the create lands), then the connection is closed without an answer.
    public var dropAfterProcessing: Double
    /// The request is processed, then answered only after ``hangSeconds`` (so a client times out first).
    public var hangAfterProcessing: Double
    public var hangSeconds: Double
    /// The request is processed, then answered with HTTP 500 or 502 and an HTML body.
    public var serverErrorAfterProcessing: Double
    /// The request is processed, then answered with the normal body cut in half.
    public var malformedAfterProcessing: Double
    /// The request is processed, then answered with a hostile body: for XML (Dynadot) a billion-laughs DOCTYPE,
    /// an external-entity DOCTYPE or a huge document; for the others a huge body of ``hostileBodyBytes``.
    public var hostileBody: Double
    public var hostileBodyBytes: Int
    /// Dynadot: after a request that failed (an error answer or any injected fault), `is_processing` answers
    /// "yes" for the next N polls, and a request sent meanwhile gets "another request is being processed".
    public var busyWindow: Int
    /// Every request (creates and lookups) gets the provider's account-level error.
    public var accountFailure: AccountFailure?
    /// Add this many synthetic entries (`sandbox-filler-NNNNNN.com`) to list answers: Dynadot
    /// `backorder_request_list` (100,000 is about 16 MB), Yay `GET /dom/back-order`, 1API
    /// `QueryDomainApplicationList`.
    public var hugeList: Int
    /// Apply latency and the probabilistic faults to lookups (lists, info, status, `is_processing`) too, not
    /// only to creates.
    public var applyToLookups: Bool
    /// Per account; a request over the limit (in any 60-second window) gets the provider's refuse answer.
    public var requestsPerMinute: Int?
    /// Dynadot: requests an account may have in processing at once (regular accounts 1, bulk 5, super bulk 25).
    public var concurrentRequestsPerKey: Int
    /// Dynadot: probability that an answer uses the older field names (`ResponseCode` instead of `SuccessCode`,
    /// `Domain` instead of `DomainName`).
    public var fieldDrift: Double

    public init(
        latency: Latency? = nil, refuse: Double = 0, tooManyRequests: Double = 0, serviceUnavailable: Double = 0, retryAfterSeconds: Int = 1,
        dropBeforeProcessing: Double = 0, dropAfterProcessing: Double = 0,
        hangAfterProcessing: Double = 0, hangSeconds: Double = 30, serverErrorAfterProcessing: Double = 0,
        malformedAfterProcessing: Double = 0, hostileBody: Double = 0, hostileBodyBytes: Int = 64 << 20,
        busyWindow: Int = 0, accountFailure: AccountFailure? = nil, hugeList: Int = 0, applyToLookups: Bool = false,
        requestsPerMinute: Int? = nil, concurrentRequestsPerKey: Int = 1, fieldDrift: Double = 0
    ) {
        self.latency = latency
        self.refuse = refuse
        self.tooManyRequests = tooManyRequests
        self.serviceUnavailable = serviceUnavailable
        self.retryAfterSeconds = retryAfterSeconds
        self.dropBeforeProcessing = dropBeforeProcessing
        self.dropAfterProcessing = dropAfterProcessing
        self.hangAfterProcessing = hangAfterProcessing
        self.hangSeconds = hangSeconds
        self.serverErrorAfterProcessing = serverErrorAfterProcessing
        self.malformedAfterProcessing = malformedAfterProcessing
        self.hostileBody = hostileBody
        self.hostileBodyBytes = hostileBodyBytes
        self.busyWindow = busyWindow
        self.accountFailure = accountFailure
        self.hugeList = hugeList
        self.applyToLookups = applyToLookups
        self.requestsPerMinute = requestsPerMinute
        self.concurrentRequestsPerKey = concurrentRequestsPerKey
        self.fieldDrift = fieldDrift
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case latency, refuse, tooManyRequests, serviceUnavailable, retryAfterSeconds, dropBeforeProcessing, dropAfterProcessing, hangAfterProcessing, hangSeconds
        case serverErrorAfterProcessing, malformedAfterProcessing, hostileBody, hostileBodyBytes, busyWindow
        case accountFailure, hugeList, applyToLookups, requestsPerMinute, concurrentRequestsPerKey, fieldDrift
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.rawValue), context: "provider faults")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ProviderFaults()
        latency = try c.decodeIfPresent(Latency.self, forKey: .latency)
        refuse = try c.decodeIfPresent(Double.self, forKey: .refuse) ?? defaults.refuse
        tooManyRequests = try c.decodeIfPresent(Double.self, forKey: .tooManyRequests) ?? 0
        serviceUnavailable = try c.decodeIfPresent(Double.self, forKey: .serviceUnavailable) ?? 0
        retryAfterSeconds = try c.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? defaults.retryAfterSeconds
        dropBeforeProcessing = try c.decodeIfPresent(Double.self, forKey: .dropBeforeProcessing) ?? 0
        dropAfterProcessing = try c.decodeIfPresent(Double.self, forKey: .dropAfterProcessing) ?? 0
        hangAfterProcessing = try c.decodeIfPresent(Double.self, forKey: .hangAfterProcessing) ?? 0
        hangSeconds = try c.decodeIfPresent(Double.self, forKey: .hangSeconds) ?? defaults.hangSeconds
        serverErrorAfterProcessing = try c.decodeIfPresent(Double.self, forKey: .serverErrorAfterProcessing) ?? 0
        malformedAfterProcessing = try c.decodeIfPresent(Double.self, forKey: .malformedAfterProcessing) ?? 0
        hostileBody = try c.decodeIfPresent(Double.self, forKey: .hostileBody) ?? 0
        hostileBodyBytes = try c.decodeIfPresent(Int.self, forKey: .hostileBodyBytes) ?? defaults.hostileBodyBytes
        busyWindow = try c.decodeIfPresent(Int.self, forKey: .busyWindow) ?? 0
        accountFailure = try c.decodeIfPresent(AccountFailure.self, forKey: .accountFailure)
        hugeList = try c.decodeIfPresent(Int.self, forKey: .hugeList) ?? 0
        applyToLookups = try c.decodeIfPresent(Bool.self, forKey: .applyToLookups) ?? false
        requestsPerMinute = try c.decodeIfPresent(Int.self, forKey: .requestsPerMinute)
        concurrentRequestsPerKey = try c.decodeIfPresent(Int.self, forKey: .concurrentRequestsPerKey) ?? 1
        fieldDrift = try c.decodeIfPresent(Double.self, forKey: .fieldDrift) ?? 0
    }

    /// The probabilistic faults, in the order they are tried.
    var weightedFaults: [(FaultKind, Double)] {
        [
            (.refuse, refuse), (.tooManyRequests, tooManyRequests), (.serviceUnavailable, serviceUnavailable),
            (.dropBeforeProcessing, dropBeforeProcessing),
            (.dropAfterProcessing, dropAfterProcessing), (.hangAfterProcessing, hangAfterProcessing),
            (.serverErrorAfterProcessing, serverErrorAfterProcessing),
            (.malformedAfterProcessing, malformedAfterProcessing), (.hostileBody, hostileBody),
        ]
    }

    func validate() throws {
        for (kind, probability) in weightedFaults + [(.fieldDrift, fieldDrift)] {
            guard (0...1).contains(probability) else {
                throw FaultPlanError(message: "\(kind.rawValue) must be between 0 and 1, got \(probability)")
            }
        }
        let total = weightedFaults.map(\.1).reduce(0, +)
        guard total <= 1.000_001 else {
            throw FaultPlanError(message: "the fault probabilities add up to \(total); at most one fault hits a request, so the sum must be at most 1")
        }
        if let latency { try latency.validate() }
        guard hangSeconds >= 0, hangSeconds <= 3600 else { throw FaultPlanError(message: "hangSeconds must be 0...3600") }
        guard hostileBodyBytes >= 0 else { throw FaultPlanError(message: "hostileBodyBytes must not be negative") }
        guard busyWindow >= 0 else { throw FaultPlanError(message: "busyWindow must not be negative") }
        guard hugeList >= 0, hugeList <= 10_000_000 else { throw FaultPlanError(message: "hugeList must be 0...10000000") }
        if let requestsPerMinute, requestsPerMinute < 1 { throw FaultPlanError(message: "requestsPerMinute must be at least 1") }
        guard concurrentRequestsPerKey >= 1 else { throw FaultPlanError(message: "concurrentRequestsPerKey must be at least 1") }
    }
}

/// A delay: fixed (`{"ms": 200}`) or uniform in a range (`{"minMs": 50, "maxMs": 400}`).
public struct Latency: Sendable, Codable, Equatable {
    public var minMs: Int
    public var maxMs: Int

    public init(minMs: Int, maxMs: Int) {
        self.minMs = minMs
        self.maxMs = maxMs
    }

    public static func fixed(ms: Int) -> Latency { Latency(minMs: ms, maxMs: ms) }

    enum CodingKeys: String, CodingKey, CaseIterable { case ms, minMs, maxMs }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(in: decoder, known: CodingKeys.allCases.map(\.rawValue), context: "latency")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let ms = try c.decodeIfPresent(Int.self, forKey: .ms) {
            minMs = ms
            maxMs = ms
        } else {
            guard let low = try c.decodeIfPresent(Int.self, forKey: .minMs) else {
                throw FaultPlanError(message: "latency needs \"ms\", or \"minMs\" and \"maxMs\"")
            }
            minMs = low
            maxMs = try c.decodeIfPresent(Int.self, forKey: .maxMs) ?? low
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if minMs == maxMs {
            try c.encode(minMs, forKey: .ms)
        } else {
            try c.encode(minMs, forKey: .minMs)
            try c.encode(maxMs, forKey: .maxMs)
        }
    }

    func validate() throws {
        guard minMs >= 0, maxMs >= minMs, maxMs <= 3_600_000 else {
            throw FaultPlanError(message: "latency needs 0 <= minMs <= maxMs <= 3600000")
        }
    }

    func milliseconds(draw: Double) -> Int {
        minMs + Int(Double(maxMs - minMs + 1) * draw).clamped(to: 0...(maxMs - minMs))
    }
}

/// The account-level error every request gets under ``ProviderFaults/accountFailure``.
public enum AccountFailure: String, Sendable, Codable, Equatable {
    /// Bad credentials: Dynadot "invalid key", Gname "signature error", Yay 401, 1API 530, DNSPod -1.
    case credentials
    /// The account is blocked: Dynadot / Gname IP not whitelisted, Yay 401, 1API 546 credit limit, DNSPod -8.
    case blocked
}

public struct FaultPlanError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }
}

/// The faults the sandbox counts in ``SandboxStats/faults``.
public enum FaultKind: String, Sendable, Codable, CaseIterable {
    case refuse, tooManyRequests, serviceUnavailable, dropBeforeProcessing, dropAfterProcessing, hangAfterProcessing
    case serverErrorAfterProcessing, malformedAfterProcessing, hostileBody, accountFailure, rateLimited, busyWindow, fieldDrift
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

private func rejectUnknownKeys(in decoder: any Decoder, known: [String], context: String) throws {
    let container = try decoder.container(keyedBy: AnyKey.self)
    let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
    if !unknown.isEmpty {
        throw FaultPlanError(message: "unknown key(s) in \(context): \(unknown.joined(separator: ", ")) (known: \(known.joined(separator: ", ")))")
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
