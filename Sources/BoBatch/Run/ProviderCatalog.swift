import BoBatchHTTP
import Foundation

/// Builds the selected providers from the environment, each with its transport and pacing.
public enum ProviderCatalog {
    /// What `bo-batch providers` shows for one provider.
    public struct Entry: Sendable {
        public var id: ProviderID
        public var operation: String
        public var maxBatch: Int
        public var pacing: Pacing
        public var configured: Bool
        public var endpoint: String
        public var variables: [String]
    }

    /// Variables that hold credentials, per provider (used to tell "configured" and for messages).
    public static func credentialVariables(_ id: ProviderID) -> [String] {
        switch id {
        case .dynadot: ["DYNADOT_API_KEY"]
        case .gname: ["GNAME_APPID", "GNAME_APPKEY"]
        case .yay: ["YAY_RESELLER", "YAY_USER", "YAY_PASSWORD"]
        case .oneapi: ["ONEAPI_LOGIN", "ONEAPI_PASSWORD"]
        case .dnspod: ["DNSPOD_LOGIN_TOKEN"]
        }
    }

    static func envPrefix(_ id: ProviderID) -> String { id.rawValue.uppercased() }

    /// The provider built from `env`, or nil when its credentials are not set. It comes wrapped in
    /// `RedactingProvider`: nothing it returns carries a secret, and it never sees more than `maxBatch` items.
    public static func make(
        _ id: ProviderID, env: [String: String], fastPacing: Bool = false, maxAttempts: Int = 5
    ) throws(ConfigurationError) -> LaneSetup? {
        let prefix = envPrefix(id)
        let timeoutCap = try requestTimeoutCap(env)
        func transport(_ pacing: Pacing) -> any HTTPTransport {
            let curl = CurlTransport(maxConcurrent: pacing.concurrency, userAgent: BoBatchVersion.userAgent)
            return timeoutCap.map { CappedTimeoutTransport(base: curl, seconds: $0) } ?? curl
        }
        var built: (provider: any Provider, pacing: Pacing)?
        switch id {
        case .dynadot:
            if let config = try DynadotConfig.fromEnvironment(env) {
                let pacing = try config.tier.pacing.overridden(by: env, prefix: prefix)
                built = (DynadotProvider(config: config, transport: transport(pacing)), pacing)
            }
        case .gname:
            if let config = try GnameConfig.fromEnvironment(env) {
                let pacing = try config.pacing.overridden(by: env, prefix: prefix)
                built = (GnameProvider(config: config, transport: transport(pacing)), pacing)
            }
        case .yay:
            if let config = try YayConfig.fromEnvironment(env) {
                let pacing = try config.pacing.overridden(by: env, prefix: prefix)
                built = (YayProvider(config: config, transport: transport(pacing)), pacing)
            }
        case .oneapi:
            if let config = try OneAPIConfig.fromEnvironment(env) {
                let pacing = try OneAPIConfig.defaultPacing.overridden(by: env, prefix: prefix)
                built = (OneAPIProvider(config: config, transport: transport(pacing)), pacing)
            }
        case .dnspod:
            if let config = try DNSPodConfig.fromEnvironment(env) {
                let pacing = try DNSPodConfig.defaultPacing.overridden(by: env, prefix: prefix)
                built = (DNSPodProvider(config: config, transport: transport(pacing)), pacing)
            }
        }
        guard var built else { return nil }
        if fastPacing, env["\(envPrefix(id))_RATE"] == nil {
            // The sandbox enforces its own limits; the real providers' pacing would only make the demo slow.
            built.pacing.requestsPerMinute = max(built.pacing.requestsPerMinute, 60_000)
        }
        return LaneSetup(provider: RedactingProvider(built.provider), settings: LaneSettings(pacing: built.pacing, maxAttempts: maxAttempts, refusalCap: refusalCap(id)))
    }

    /// The longest wait that refusals in a row may grow to. DNSPod bans an account's API access for about an hour
    /// after misuse (PROVIDERS.md), so its lane backs off further than the others before trying again.
    static func refusalCap(_ id: ProviderID) -> Double {
        id == .dnspod ? 600 : 60
    }

    /// `BO_BATCH_TIMEOUT`: the longest any one request may take, in seconds (providers' own limits apply below it).
    public static func requestTimeoutCap(_ env: [String: String]) throws(ConfigurationError) -> Double? {
        guard let raw = EnvironmentReader(env).value("BO_BATCH_TIMEOUT") else { return nil }
        guard let seconds = Double(raw), seconds >= 0.1, seconds <= 3600 else {
            throw ConfigurationError("BO_BATCH_TIMEOUT=\(raw) is not a number of seconds from 0.1 to 3600")
        }
        return seconds
    }
}

extension ProviderCatalog {
    /// What a provider does, in a few words.
    public static func operation(_ id: ProviderID) -> String {
        switch id {
        case .dynadot: "add_backorder_request (api3 XML)"
        case .gname: "backorder/add (signed form POST)"
        case .yay: "POST /dom/back-order (charged per call)"
        case .oneapi: "AddDomainApplication class=BACKORDER"
        case .dnspod: "Domain.Acquiresend (get domain back)"
        }
    }
}

/// Shortens every request's time limit to at most `seconds`.
struct CappedTimeoutTransport: HTTPTransport {
    let base: any HTTPTransport
    let seconds: Double

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        var capped = request
        capped.timeoutSeconds = min(request.timeoutSeconds, seconds)
        return try await base.send(capped)
    }
}
