import Foundation

/// 1API (HEXONET ISPAPI) account settings, from `ONEAPI_LOGIN`, `ONEAPI_PASSWORD`, `ONEAPI_ENTITY`,
/// `ONEAPI_ENDPOINT` and `ONEAPI_CUTOFF_HOURS` (pacing overrides `ONEAPI_THREADS` / `ONEAPI_RATE` apply to `defaultPacing`).
public struct OneAPIConfig: Sendable {
    /// The ISPAPI system a login belongs to: live and test accounts are separate, so a wrong entity fails authentication.
    public enum Entity: String, Sendable, CaseIterable {
        case live = "54cd"
        case test = "1234"

        var label: String {
            switch self {
            case .live: "live"
            case .test: "test system"
            }
        }
    }

    public static let defaultEndpoint = "https://coreapi.1api.net/api/call.cgi"
    /// Seed 003: backorders must exist at least three hours before the registry's deletion batch.
    public static let defaultCutoffHours: Double = 3
    /// One at a time, one every two seconds: ISPAPI meters usage in quota points (425 "usage exceeded")
    /// whose budget is not published, and a 425 costs a minute of waiting.
    public static let defaultPacing = Pacing(concurrency: 1, requestsPerMinute: 30)

    public var login: String
    public var password: String
    public var entity: Entity
    public var endpoint: String
    public var cutoffHours: Double

    public init(
        login: String, password: String, entity: Entity = .live, endpoint: String = OneAPIConfig.defaultEndpoint,
        cutoffHours: Double = OneAPIConfig.defaultCutoffHours
    ) {
        self.login = login
        self.password = password
        self.entity = entity
        self.endpoint = endpoint
        self.cutoffHours = cutoffHours
    }

    /// nil when neither login nor password is set. `ONEAPI_ENTITY` alone counts as half configured:
    /// choosing a system without an account for it is a mistake worth reporting, not ignoring.
    public static func fromEnvironment(_ env: [String: String]) throws(ConfigurationError) -> OneAPIConfig? {
        let reader = EnvironmentReader(env)
        guard let values = try reader.credentials(["ONEAPI_LOGIN", "ONEAPI_PASSWORD"], provider: "1API") else {
            if reader.value("ONEAPI_ENTITY") != nil {
                throw ConfigurationError("1API is half configured: set ONEAPI_LOGIN and ONEAPI_PASSWORD too, or unset ONEAPI_ENTITY")
            }
            return nil
        }
        var entity = Entity.live
        if let raw = reader.value("ONEAPI_ENTITY") {
            guard let parsed = Entity(rawValue: raw.lowercased()) else {
                throw ConfigurationError("ONEAPI_ENTITY=\(raw) is neither 54cd (1API live) nor 1234 (1API's test system)")
            }
            entity = parsed
        }
        var cutoff = defaultCutoffHours
        if let raw = reader.value("ONEAPI_CUTOFF_HOURS") {
            guard let hours = Double(raw), hours.isFinite, (0...72).contains(hours) else {
                throw ConfigurationError("ONEAPI_CUTOFF_HOURS=\(raw) is not a number of hours from 0 to 72 (1API asks for at least 3)")
            }
            cutoff = hours
        }
        return OneAPIConfig(
            login: values[0], password: values[1], entity: entity,
            endpoint: try reader.endpoint("ONEAPI_ENDPOINT", default: defaultEndpoint),
            cutoffHours: cutoff)
    }
}
