import Foundation

/// Yay.com reseller API settings: `YAY_RESELLER`, `YAY_USER`, `YAY_PASSWORD` (all three or none),
/// `YAY_ENDPOINT` (default `https://api.yay.com`), and `YAY_THREADS`/`YAY_RATE` to override `defaultPacing`.
public struct YayConfig: Sendable {
    public static let defaultEndpoint = "https://api.yay.com"
    /// Yay.com publishes no rate limit and charges every create call, so one call at a time, one every 2 s.
    public static let defaultPacing = Pacing(concurrency: 1, requestsPerMinute: 30)

    public var reseller: String
    public var user: String
    public var password: String
    public var endpoint: String
    public var pacing: Pacing

    public init(
        reseller: String, user: String, password: String, endpoint: String = YayConfig.defaultEndpoint,
        pacing: Pacing = YayConfig.defaultPacing
    ) {
        self.reseller = reseller
        self.user = user
        self.password = password
        self.endpoint = endpoint
        self.pacing = pacing
    }

    public static func fromEnvironment(_ env: [String: String]) throws(ConfigurationError) -> YayConfig? {
        let reader = EnvironmentReader(env)
        guard let values = try reader.credentials(["YAY_RESELLER", "YAY_USER", "YAY_PASSWORD"], provider: "Yay.com") else {
            return nil
        }
        return YayConfig(
            reseller: values[0], user: values[1], password: values[2],
            endpoint: try reader.endpoint("YAY_ENDPOINT", default: defaultEndpoint),
            pacing: try defaultPacing.overridden(by: env, prefix: "YAY"))
    }
}
