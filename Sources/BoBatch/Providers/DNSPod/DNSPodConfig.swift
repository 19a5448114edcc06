import Foundation

/// DNSPod account settings for get-domain-back, from `DNSPOD_LOGIN_TOKEN` (`ID,token`), `DNSPOD_EMAIL`,
/// `DNSPOD_EMAIL_AUTO` and `DNSPOD_ENDPOINT` (pacing overrides `DNSPOD_THREADS` / `DNSPOD_RATE` apply to `defaultPacing`).
public struct DNSPodConfig: Sendable {
    public static let defaultEndpoint = "https://api.dnspod.com"
    /// One at a time, one every ten seconds: DNSPod bans an account's API access for about an hour on what it
    /// judges misuse, and each send mails a person. With `DNSPOD_EMAIL_AUTO` a send is two requests.
    public static let defaultPacing = Pacing(concurrency: 1, requestsPerMinute: 6)

    /// `ID,token`. Secret as a whole and in its token part.
    public var loginToken: String
    /// Used when an item carries no email of its own.
    public var email: String?
    /// When no email is known, ask `Domain.Acquire` and use the first address it offers.
    public var emailAuto: Bool
    public var endpoint: String

    public init(loginToken: String, email: String? = nil, emailAuto: Bool = false, endpoint: String = DNSPodConfig.defaultEndpoint) {
        self.loginToken = loginToken
        self.email = email
        self.emailAuto = emailAuto
        self.endpoint = endpoint
    }

    /// nil when `DNSPOD_LOGIN_TOKEN` is unset. `DNSPOD_EMAIL` or `DNSPOD_EMAIL_AUTO` without it counts as half
    /// configured. Error messages never repeat the token.
    public static func fromEnvironment(_ env: [String: String]) throws(ConfigurationError) -> DNSPodConfig? {
        let reader = EnvironmentReader(env)
        guard let values = try reader.credentials(["DNSPOD_LOGIN_TOKEN"], provider: "DNSPod") else {
            let others = ["DNSPOD_EMAIL", "DNSPOD_EMAIL_AUTO"].filter { reader.value($0) != nil }
            if !others.isEmpty {
                throw ConfigurationError("DNSPod is half configured: set DNSPOD_LOGIN_TOKEN too, or unset \(others.joined(separator: ", "))")
            }
            return nil
        }
        let token = values[0]
        guard isLoginTokenShape(token) else {
            throw ConfigurationError("DNSPOD_LOGIN_TOKEN must look like ID,token: the numeric token ID, a comma, then the token (as DNSPod shows them when the token is created)")
        }
        var email: String?
        if let raw = reader.value("DNSPOD_EMAIL") {
            guard DNSPodEmailChoice.isPlausible(raw) else {
                throw ConfigurationError("DNSPOD_EMAIL=\(raw) is not an email address")
            }
            email = raw
        }
        var auto = false
        if let raw = reader.value("DNSPOD_EMAIL_AUTO") {
            switch raw.lowercased() {
            case "1", "true", "yes": auto = true
            case "0", "false", "no": auto = false
            default: throw ConfigurationError("DNSPOD_EMAIL_AUTO=\(raw) is not 1 (use the first address DNSPod offers) or 0")
            }
        }
        return DNSPodConfig(
            loginToken: token, email: email, emailAuto: auto,
            endpoint: try reader.endpoint("DNSPOD_ENDPOINT", default: defaultEndpoint))
    }

    /// `ID,token`: digits, one comma, then a token without spaces or commas.
    static func isLoginTokenShape(_ value: String) -> Bool {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        guard parts[0].count <= 20, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        return parts[1].unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }
    }

    /// The part after the comma: a message that quotes only it must be redacted too.
    var tokenSecret: String {
        loginToken.split(separator: ",", maxSplits: 1).dropFirst().first.map(String.init) ?? loginToken
    }

    var secrets: [String] { [loginToken, tokenSecret] }
}
