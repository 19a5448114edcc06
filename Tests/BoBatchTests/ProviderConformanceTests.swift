import BoBatchHTTP
import BoBatchSandbox
import Foundation
import Testing

@testable import BoBatch

/// The `Provider` protocol's written requirements, checked for every provider the same way (in the spirit of
/// swift-log's LogHandler requirements).
///
/// Each provider is built by `ProviderCatalog.make` exactly as `submit --sandbox` builds it (the sandbox's
/// credentials and endpoints, DNSPod choosing the first address offered, fast pacing), so it comes wrapped in
/// `RedactingProvider` and talks to an in-process `SandboxServer` over loopback with the real libcurl transport.
///
/// **Adding a provider means passing this suite**: add its `ProviderID` case (the suite runs over
/// `ProviderID.allCases`), its fake to the sandbox, its create command names to `Conformance.createCommands`,
/// and any setting that changes its `maxBatch` to `batchSettings`.
///
/// What it checks, per provider:
/// - a create never carries more than `maxBatch` items: more never reaches the provider (a halt, nothing sent),
///   and every allowed call sends at most one create request;
/// - a batch mixing pending-delete and `taken…` names gets exactly one verdict per item, or a result that
///   settles none (`refused`, `maybeProcessed`, `batchFailed`);
/// - no retries or sleeps inside: under every fault below, one call is one create request and returns at once,
///   although the sandbox asks to wait a minute;
/// - each fault class is classified as the protocol says: refusals are `.refused`; a connection dropped before
///   processing is `.refused` or `.maybeProcessed`; a drop after processing, a 5xx or a cut answer is
///   `.maybeProcessed` or `.batchFailed`, never a verdict;
/// - account errors halt with a fix, and no lookup then claims to know what the account holds;
/// - lookups find what was placed and nothing else (or say the provider has none);
/// - no returned string carries a credential, plain or percent-encoded, even when the answers echo one, and none
///   is more than one bounded line without control characters;
/// - the catalog wraps the provider in `RedactingProvider` once, and every key, password or token is declared
///   in `secrets`;
/// - settings that change `maxBatch` (Gname's `GNAME_BULK`) keep the batch and fault requirements.
@Suite("Provider conformance")
struct ProviderConformanceTests {
    // MARK: oversize and batch size

    @Test(arguments: ProviderID.allCases)
    func moreThanMaxBatchNeverReachesTheProvider(id: ProviderID) async throws {
        try await withConformance(id) { c in await Self.checkOversize(c) }
    }

    @Test(arguments: ProviderID.allCases)
    func aMixedBatchGetsOneVerdictPerItemOrSettlesNone(id: ProviderID) async throws {
        try await withConformance(id) { c in await Self.checkMixedBatch(c) }
    }

    // MARK: faults: classification, one request per call, no waiting inside

    static let faultKinds: [FaultKind] = [
        .refuse, .tooManyRequests, .serviceUnavailable, .dropBeforeProcessing, .dropAfterProcessing,
        .serverErrorAfterProcessing, .malformedAfterProcessing,
    ]

    @Test(arguments: ProviderID.allCases, ProviderConformanceTests.faultKinds)
    func everyFaultIsOneRequestClassifiedWithoutWaiting(id: ProviderID, fault: FaultKind) async throws {
        try await withConformance(id) { c in try await Self.checkFault(fault, c) }
    }

    // MARK: settings that change the batch size

    /// Settings that `submit --sandbox` passes through and that change a provider's `maxBatch`: the batch and
    /// fault checks run again with each.
    static let batchSettings = [ProviderSetting(id: .gname, env: ["GNAME_BULK": "1"])]

    @Test(arguments: ProviderConformanceTests.batchSettings)
    func batchSettingsKeepTheRequirements(setting: ProviderSetting) async throws {
        try await withConformance(setting.id, env: setting.env) { c in
            #expect(c.provider.maxBatch > 1, "\(setting) should allow batches")
            await Self.checkOversize(c)
            await Self.checkMixedBatch(c)
            for fault in Self.faultKinds { try await Self.checkFault(fault, c) }
        }
    }

    // MARK: the checks

    /// One item more than `maxBatch` halts with nothing sent; an empty create settles nothing and sends nothing.
    static func checkOversize(_ c: Conformance) async {
        let before = c.totalRequests
        let items = c.names("oversize", count: c.provider.maxBatch + 1)
        let result = await c.submit(items)
        guard case .halt(let reason, let fix) = result else {
            Issue.record("\(c.id): \(items.count) items for maxBatch \(c.provider.maxBatch) gave \(result), not a halt")
            return
        }
        #expect(reason.contains("nothing was sent"), "\(reason)")
        #expect(!fix.isEmpty)
        #expect(await c.submit([]) == .settled([:]))
        #expect(c.totalRequests == before, "\(c.id): an oversize or empty create reached the sandbox: \(c.server.stats().requests)")
    }

    /// Pending-delete and registered (`taken…`, `live…`) names mixed, in calls of at most `maxBatch`: each call
    /// is one verdict per item or settles none, and sends at most one create.
    static func checkMixedBatch(_ c: Conformance) async {
        let names = ["mix-one-drop.com", "taken-mix-two.com", "mix-three-drop.net", "taken-mix-four.net", "mix-five-drop.org", "live-mix-six.org"]
        let items = names.map { BackorderItem(domain: DomainName(validatedASCII: $0)) }
        let before = c.createRequests
        var calls = 0
        for chunk in c.chunks(items) {
            #expect(chunk.count <= c.provider.maxBatch)
            let result = await c.submit(chunk)
            calls += 1
            switch result {
            case .settled(let verdicts):
                #expect(Set(verdicts.keys) == Set(chunk.map(\.domain)), "\(c.id): one verdict per item, got \(verdicts)")
                for (domain, verdict) in verdicts where domain.ascii.hasPrefix("taken") || domain.ascii.hasPrefix("live") {
                    if case .accepted = verdict { Issue.record("\(c.id): a registered name was accepted: \(domain)") }
                }
            case .refused, .maybeProcessed, .batchFailed:
                break
            case .halt:
                Issue.record("\(c.id): a clean sandbox halted on \(chunk.map(\.domain)): \(result)")
            }
        }
        // At most one create per call (DNSPod settles a registered name before its create, from the address list).
        let creates = c.createRequests - before
        #expect(creates <= calls, "\(c.id): \(calls) calls sent \(creates) create requests")
        #expect(creates >= 1, "\(c.id): no create was sent at all")
    }

    /// Under `fault` with probability 1, each call sends exactly one create, returns at once although the
    /// sandbox asks for a minute's wait (a provider that slept or retried inside would show), and is classified
    /// as the protocol says. Several calls, so that the refuse fault's variants (the provider's own "slow down"
    /// answer, or a 503) all show.
    static func checkFault(_ fault: FaultKind, _ c: Conformance) async throws {
        try c.server.setFaults(FaultPlan(providers: [c.id.rawValue: .only(fault, retryAfterSeconds: 60)]))
        defer { try? c.server.setFaults(.none) }
        let injected = c.server.stats().faultCount(c.id.rawValue, fault)
        for round in 0..<4 {
            let items = c.names("\(fault)-\(round)", count: min(c.provider.maxBatch, 3))
            let before = c.createRequests
            let started = ContinuousClock.now
            let result = await c.submit(items)
            let elapsed = ContinuousClock.now - started
            #expect(c.createRequests == before + 1, "\(c.id) \(fault): one call sent \(c.createRequests - before) create requests")
            #expect(elapsed < .seconds(20), "\(c.id) \(fault): the call took \(elapsed): waiting belongs to the lane")
            switch (fault, result) {
            case (.refuse, .refused), (.tooManyRequests, .refused), (.serviceUnavailable, .refused):
                break
            // The transport cannot tell a close before processing from one after: the request was sent.
            case (.dropBeforeProcessing, .refused), (.dropBeforeProcessing, .maybeProcessed):
                break
            case (.dropAfterProcessing, .maybeProcessed), (.dropAfterProcessing, .batchFailed),
                (.serverErrorAfterProcessing, .maybeProcessed), (.serverErrorAfterProcessing, .batchFailed),
                (.malformedAfterProcessing, .maybeProcessed), (.malformedAfterProcessing, .batchFailed):
                break
            default:
                Issue.record("\(c.id) \(fault): classified as \(result)")
            }
        }
        #expect(c.server.stats().faultCount(c.id.rawValue, fault) == injected + 4)
    }

    // MARK: account errors

    @Test(arguments: ProviderID.allCases, [AccountFailure.credentials, .blocked])
    func accountErrorsHaltWithAFix(id: ProviderID, failure: AccountFailure) async throws {
        try await withConformance(id, faults: ProviderFaults(accountFailure: failure)) { c in
            let items = c.names("account", count: min(c.provider.maxBatch, 2))
            let result = await c.submit(items)
            guard case .halt(let reason, let fix) = result else {
                Issue.record("\(id) \(failure): \(result), not a halt")
                return
            }
            #expect(!reason.isEmpty)
            #expect(!fix.trimmingCharacters(in: .whitespaces).isEmpty, "\(id) \(failure): a halt needs a fix")
            #expect(c.createRequests <= 1)
            let lookup = await c.lookup(Array(items.prefix(c.provider.maxLookupBatch)))
            if case .found = lookup { Issue.record("\(id) \(failure): a failing account's lookup claimed \(lookup)") }
        }
    }

    // MARK: lookups

    @Test(arguments: ProviderID.allCases)
    func lookupsFindWhatWasPlaced(id: ProviderID) async throws {
        try await withConformance(id) { c in
            let placed = c.names("placed", count: 3)
            var references: [DomainName: String?] = [:]
            for chunk in c.chunks(placed) {
                guard case .settled(let verdicts) = await c.submit(chunk) else {
                    Issue.record("\(id): a clean create did not settle")
                    return
                }
                for (domain, verdict) in verdicts {
                    guard case .accepted(let reference, _) = verdict else {
                        Issue.record("\(id): \(domain) was not accepted: \(verdict)")
                        continue
                    }
                    references[domain] = reference
                }
            }
            let never = c.names("never", count: 1)
            var found: [DomainName: String] = [:]
            for chunk in (placed + never).chunked(max(1, c.provider.maxLookupBatch)) {
                switch await c.lookup(chunk) {
                case .found(let held):
                    #expect(Set(held.keys).isSubset(of: Set(chunk.map(\.domain))), "\(id): the lookup answered about domains not asked")
                    found.merge(held) { a, _ in a }
                case .unsupported(let reason):
                    #expect(!reason.isEmpty)
                    return
                case let other:
                    Issue.record("\(id): lookup in a clean sandbox gave \(other)")
                    return
                }
            }
            #expect(Set(found.keys) == Set(placed.map(\.domain)), "\(id): placed \(placed.map(\.domain)), found \(found.keys.sorted())")
            for (domain, reference) in references {
                if let reference, !reference.isEmpty, let seen = found[domain], !seen.isEmpty {
                    #expect(seen == reference, "\(id): \(domain) was placed as \(reference), looked up as \(seen)")
                }
            }
        }
    }

    // MARK: answers that echo a secret

    /// Answers quote what was sent, domain names above all. Under a sandbox account whose key, password or token
    /// is also a domain label, a domain named after it makes the answers echo the secret (accepted, already,
    /// a batch refused over it, a cut answer, a lookup): none of it may come back.
    @Test(arguments: ProviderID.allCases)
    func answersEchoingASecretDoNotCarryIt(id: ProviderID) async throws {
        try await withConformance(id, credentialSuffix: "-echo") { c in
            let labels = c.provider.secrets.filter { $0.range(of: "^[a-z0-9-]{1,63}$", options: .regularExpression) != nil }
            #expect(!labels.isEmpty, "\(id): no secret can be a domain label")
            for label in labels {
                let named = BackorderItem(domain: DomainName(validatedASCII: "\(label).com"))
                _ = await c.submit([named])
                _ = await c.submit([named])
                if c.provider.maxBatch > 1 {
                    _ = await c.submit([BackorderItem(domain: DomainName(validatedASCII: "\(label)-2.com")), named])
                }
                _ = await c.lookup([named])
                for fault in [FaultKind.malformedAfterProcessing, .serverErrorAfterProcessing] {
                    try c.server.setFaults(FaultPlan(providers: [id.rawValue: .only(fault, retryAfterSeconds: 1)]))
                    _ = await c.submit([BackorderItem(domain: DomainName(validatedASCII: "\(label).net"))])
                }
                try c.server.setFaults(.none)
            }
            #expect(c.credentials.contains { $0.hasSuffix("-echo") })
        }
    }

    // MARK: the wrapper itself

    @Test(arguments: ProviderID.allCases)
    func theCatalogWrapsEveryProviderOnce(id: ProviderID) async throws {
        try await withConformance(id) { c in
            #expect(c.provider is RedactingProvider)
            #expect(!(RedactingProvider(c.provider).base is RedactingProvider), "wrapping twice")
            // Every credential variable that holds a key, password or token is declared secret.
            for name in ProviderCatalog.credentialVariables(id) where ["KEY", "PASSWORD", "TOKEN"].contains(where: name.hasSuffix) {
                #expect(c.provider.secrets.contains(c.env[name] ?? "?"), "\(id) does not declare \(name) secret")
            }
            c.collect(c.provider.endpointDescription)
            #expect(!c.provider.endpointDescription.contains("?"))
        }
    }
}

// MARK: - support

extension ProviderFaults {
    /// Probability 1 for `fault`, nothing else.
    static func only(_ fault: FaultKind, retryAfterSeconds: Int) -> ProviderFaults {
        var faults = ProviderFaults(retryAfterSeconds: retryAfterSeconds)
        switch fault {
        case .refuse: faults.refuse = 1
        case .tooManyRequests: faults.tooManyRequests = 1
        case .serviceUnavailable: faults.serviceUnavailable = 1
        case .dropBeforeProcessing: faults.dropBeforeProcessing = 1
        case .dropAfterProcessing: faults.dropAfterProcessing = 1
        case .serverErrorAfterProcessing: faults.serverErrorAfterProcessing = 1
        case .malformedAfterProcessing: faults.malformedAfterProcessing = 1
        default: Issue.record("no probability knob for \(fault)")
        }
        return faults
    }
}

extension Array {
    fileprivate func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

/// One provider, built by the catalog against its own sandbox, and every string its results carried.
final class Conformance: @unchecked Sendable {
    let id: ProviderID
    let server: SandboxServer
    let provider: any Provider
    /// Every credential of the sandbox environment, and every secret the providers declare.
    let credentials: [String]
    private let lock = NSLock()
    private var strings: [String] = []

    /// The environment the provider was built from.
    let env: [String: String]

    /// `credentialSuffix` selects another sandbox account: every credential of `id` with the suffix added.
    init(id: ProviderID, server: SandboxServer, settings: [String: String] = [:], credentialSuffix: String? = nil) throws {
        self.id = id
        self.server = server
        var env = SandboxCredentials.environment(for: server)
        // As `submit --sandbox` does when no DNSPod address is configured.
        env["DNSPOD_EMAIL_AUTO"] = "1"
        env.merge(settings) { _, setting in setting }
        if let credentialSuffix {
            for name in ProviderCatalog.credentialVariables(id) { env[name] = (env[name] ?? "") + credentialSuffix }
        }
        self.env = env
        guard let setup = try ProviderCatalog.make(id, env: env, fastPacing: true) else {
            throw ConfigurationError("\(id) was not built from the sandbox environment")
        }
        provider = setup.provider
        var credentials = ProviderID.allCases.flatMap(ProviderCatalog.credentialVariables).compactMap { env[$0] }
        for other in ProviderID.allCases {
            credentials += (try ProviderCatalog.make(other, env: env))?.provider.secrets ?? []
        }
        self.credentials = Array(Set(credentials))
    }

    /// The names of the create commands in the sandbox's request counts.
    static func createCommands(_ id: ProviderID) -> [String] {
        switch id {
        case .dynadot: ["add_backorder_request"]
        case .gname: ["add", "bulk"]
        case .yay: ["POST /dom/back-order"]
        case .oneapi: ["AddDomainApplication"]
        case .dnspod: ["Domain.Acquiresend"]
        }
    }

    var createRequests: Int {
        let stats = server.stats()
        return Self.createCommands(id).map { stats.requestCount(id.rawValue, $0) }.reduce(0, +)
    }

    var totalRequests: Int { server.stats().requests[id.rawValue]?.values.reduce(0, +) ?? 0 }

    /// `count` fresh pending-delete names, unique to this provider and `label`.
    func names(_ label: String, count: Int) -> [BackorderItem] {
        (0..<count).map { BackorderItem(domain: DomainName(validatedASCII: "conf-\(id.rawValue)-\(label)-\($0)-drop.com".lowercased())) }
    }

    func chunks(_ items: [BackorderItem]) -> [[BackorderItem]] { items.chunked(max(1, provider.maxBatch)) }

    func submit(_ items: [BackorderItem]) async -> SubmitResult {
        for item in items { if let reason = provider.skipReason(for: item, now: Date()) { collect(reason) } }
        let result = await provider.submit(items)
        collect(result)
        return result
    }

    func lookup(_ items: [BackorderItem]) async -> LookupResult {
        let result = await provider.lookup(items)
        collect(result)
        return result
    }

    func collect(_ text: String) { lock.withLock { strings.append(text) } }

    func collect(_ result: SubmitResult) {
        func of(_ verdict: Verdict) -> [String] {
            switch verdict {
            case .accepted(let reference, let message), .already(let reference, let message): [reference ?? "", message]
            case .rejected(let message), .skipped(let message): [message]
            }
        }
        switch result {
        case .settled(let verdicts): verdicts.values.flatMap(of).forEach(collect)
        case .refused(let reason, _), .maybeProcessed(let reason): collect(reason)
        case .batchFailed(let reason, let verdict): ([reason] + of(verdict)).forEach(collect)
        case .halt(let reason, let fix): [reason, fix].forEach(collect)
        }
    }

    func collect(_ result: LookupResult) {
        switch result {
        case .found(let held): held.values.forEach(collect)
        case .unavailable(let reason), .unsupported(let reason): collect(reason)
        case .halt(let reason, let fix): [reason, fix].forEach(collect)
        }
    }

    /// Every string collected: no credential, plain or percent-encoded; one line of bounded length.
    func checkStrings() {
        let all = lock.withLock { strings }
        let forms = credentials.flatMap { [$0, percentEncodeQueryValue($0)] }
        for text in all {
            for form in forms where text.contains(form) {
                Issue.record("\(id): a returned string carries a credential: \(text)")
            }
            #expect(!text.unicodeScalars.contains { CharacterSet.controlCharacters.contains($0) }, "\(id): control character in \(text)")
            #expect(text.count <= ProviderText.maxLength + 1, "\(id): \(text.count) characters")
        }
    }
}

/// A provider with settings that `submit --sandbox` passes through (`GNAME_BULK`, ...).
struct ProviderSetting: Sendable, CustomTestStringConvertible {
    var id: ProviderID
    var env: [String: String]
    var testDescription: String { "\(id) with \(env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))" }
}

/// Runs `body` against `id` built by the catalog with a fresh sandbox (faults for `id` only) and `env` added to
/// the sandbox environment, then checks every string its results carried.
func withConformance(
    _ id: ProviderID, faults: ProviderFaults? = nil, env: [String: String] = [:], credentialSuffix: String? = nil,
    _ body: (Conformance) async throws -> Void
) async throws {
    let plan = faults.map { FaultPlan(providers: [id.rawValue: $0]) } ?? .none
    let server = try await SandboxServer.start(SandboxOptions(faults: plan, logLevel: .critical))
    do {
        let conformance = try Conformance(id: id, server: server, settings: env, credentialSuffix: credentialSuffix)
        try await body(conformance)
        conformance.checkStrings()
        await server.shutdown()
    } catch {
        await server.shutdown()
        throw error
    }
}
