import Foundation

/// Gname account settings.
///
/// - `GNAME_APPID`, `GNAME_APPKEY`: the API credentials (both or neither).
/// - `GNAME_CHANNEL`: the backorder channel sent as `td`. Gname requires it on every create and documents it
///   only as "1 represents channel 1", so it defaults to `1`; set it when the account uses another channel.
/// - `GNAME_ENDPOINT`: defaults to `https://api.gname.com`.
/// - `GNAME_BULK=1`: send up to 100 domains per `/api/backorder/bulk` call instead of one per `/api/backorder/add`.
/// - `GNAME_MAX_PRICE`: the budget sent as `qian` (account currency, e.g. `10.00`); unset lets Gname apply its default.
///   `10.00 USD` names the currency too, for the plan's money exposure and `--max-spend` (see `PriceList`).
/// - `GNAME_THREADS`, `GNAME_RATE`: override `defaultPacing`.
public struct GnameConfig: Sendable {
    public static let defaultEndpoint = "https://api.gname.com"
    public static let defaultChannel = "1"
    /// Gname publishes no rate limit and a paid create freezes a deposit, so one call at a time, one every 3 s.
    public static let defaultPacing = Pacing(concurrency: 1, requestsPerMinute: 20)

    public var appID: String
    public var appKey: String
    public var channel: String
    public var endpoint: String
    public var bulk: Bool
    public var maxPrice: String?
    public var pacing: Pacing

    public init(
        appID: String, appKey: String, channel: String = GnameConfig.defaultChannel,
        endpoint: String = GnameConfig.defaultEndpoint, bulk: Bool = false, maxPrice: String? = nil,
        pacing: Pacing = GnameConfig.defaultPacing
    ) {
        self.appID = appID
        self.appKey = appKey
        self.channel = channel
        self.endpoint = endpoint
        self.bulk = bulk
        self.maxPrice = maxPrice
        self.pacing = pacing
    }

    public static func fromEnvironment(_ env: [String: String]) throws(ConfigurationError) -> GnameConfig? {
        let reader = EnvironmentReader(env)
        guard let values = try reader.credentials(["GNAME_APPID", "GNAME_APPKEY"], provider: "Gname") else { return nil }

        var channel = defaultChannel
        if let raw = reader.value("GNAME_CHANNEL") {
            guard let n = Int(raw), n > 0 else {
                throw ConfigurationError("GNAME_CHANNEL=\(raw) is not a channel number (Gname's td, e.g. 1 or 2)")
            }
            channel = String(n)
        }

        var bulk = false
        if let raw = reader.value("GNAME_BULK") {
            switch raw.lowercased() {
            case "1", "true", "yes", "on": bulk = true
            case "0", "false", "no", "off": bulk = false
            default: throw ConfigurationError("GNAME_BULK=\(raw) is not 1 (bulk mode) or 0 (one domain per call)")
            }
        }

        var maxPrice: String?
        if let given = reader.value("GNAME_MAX_PRICE") {
            // `AMOUNT` or `AMOUNT CURRENCY`: the currency is for bo-batch's plan and caps (PriceList); Gname gets the amount.
            let raw = Money.parse(given).map { Money.format($0.amount, scale: $0.scale) } ?? given
            // Digits with at most two decimals: what Gname's `qian` takes, and nothing that could be misread.
            let parts = raw.split(separator: ".", omittingEmptySubsequences: false)
            let digitsOnly = parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
            guard digitsOnly, parts.count <= 2, parts.count < 2 || parts[1].count <= 2, let value = Double(raw), value > 0 else {
                throw ConfigurationError("GNAME_MAX_PRICE=\(given) is not an amount above 0 such as 10 or 10.50, optionally with the account's currency: '10.50 USD'")
            }
            maxPrice = raw
        }

        return GnameConfig(
            appID: values[0], appKey: values[1], channel: channel,
            endpoint: try reader.endpoint("GNAME_ENDPOINT", default: defaultEndpoint),
            bulk: bulk, maxPrice: maxPrice,
            pacing: try defaultPacing.overridden(by: env, prefix: "GNAME"))
    }
}
