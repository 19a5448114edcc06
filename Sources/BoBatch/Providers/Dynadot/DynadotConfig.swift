import Foundation

/// Dynadot account settings, from `DYNADOT_API_KEY`, `DYNADOT_ENDPOINT`, `DYNADOT_ACCOUNT`
/// (`regular`, `bulk` or `super-bulk`: the account tier decides the pacing Dynadot allows).
public struct DynadotConfig: Sendable {
    public enum Tier: String, Sendable, CaseIterable {
        case regular, bulk, superBulk = "super-bulk"

        /// Dynadot's published limits per account: threads and requests per minute.
        public var pacing: Pacing {
            switch self {
            case .regular: Pacing(concurrency: 1, requestsPerMinute: 60)
            case .bulk: Pacing(concurrency: 5, requestsPerMinute: 600)
            case .superBulk: Pacing(concurrency: 25, requestsPerMinute: 6000)
            }
        }
    }

    public static let defaultEndpoint = "https://api.dynadot.com/api3.xml"

    public var apiKey: String
    public var endpoint: String
    public var tier: Tier

    public init(apiKey: String, endpoint: String = DynadotConfig.defaultEndpoint, tier: Tier = .regular) {
        self.apiKey = apiKey
        self.endpoint = endpoint
        self.tier = tier
    }

    public static func fromEnvironment(_ env: [String: String]) throws(ConfigurationError) -> DynadotConfig? {
        let reader = EnvironmentReader(env)
        guard let values = try reader.credentials(["DYNADOT_API_KEY"], provider: "Dynadot") else { return nil }
        var tier = Tier.regular
        if let raw = reader.value("DYNADOT_ACCOUNT") {
            guard let t = Tier(rawValue: raw.lowercased()) else {
                throw ConfigurationError("DYNADOT_ACCOUNT=\(raw) is not one of regular, bulk, super-bulk")
            }
            tier = t
        }
        return DynadotConfig(
            apiKey: values[0], endpoint: try reader.endpoint("DYNADOT_ENDPOINT", default: defaultEndpoint), tier: tier)
    }
}
