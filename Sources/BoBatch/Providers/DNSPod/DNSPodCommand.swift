import BoBatchHTTP
import Foundation

/// One DNSPod API action (`ENDPOINT/Domain.Acquiresend`) with its form fields, and the HTTP request that carries it.
struct DNSPodCommand: Sendable, Equatable {
    struct Field: Sendable, Equatable {
        var name: String
        var value: String
    }

    var action: String
    var fields: [Field]
    /// Sending a code mails a person: the transport must never repeat it on its own.
    var idempotent: Bool

    /// Lists the WHOIS addresses DNSPod may mail for `domain`. A read, so it may be re-sent.
    static func acquire(_ domain: DomainName) -> DNSPodCommand {
        DNSPodCommand(action: "Domain.Acquire", fields: [.init(name: "domain", value: domain.ascii)], idempotent: true)
    }

    static func acquireSend(_ domain: DomainName, email: String) -> DNSPodCommand {
        DNSPodCommand(
            action: "Domain.Acquiresend", fields: [.init(name: "domain", value: domain.ascii), .init(name: "email", value: email)],
            idempotent: false)
    }

    static func url(endpoint: String, action: String) -> String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/\(action)"
    }

    /// DNSPod bans API access for requests without a `name/version (contact)` User-Agent, so it is set here
    /// rather than left to the transport's default.
    func httpRequest(config: DNSPodConfig) -> HTTPRequest {
        let all = [Field(name: "login_token", value: config.loginToken), Field(name: "format", value: "json")] + fields
        let body = all.map { "\(percentEncodeQueryValue($0.name))=\(percentEncodeQueryValue($0.value))" }.joined(separator: "&")
        return HTTPRequest(
            method: .post, url: Self.url(endpoint: config.endpoint, action: action),
            headers: [
                (name: "Content-Type", value: "application/x-www-form-urlencoded"),
                (name: "User-Agent", value: BoBatchVersion.userAgent),
            ],
            body: Array(body.utf8), timeoutSeconds: 60, idempotent: idempotent, maxResponseBytes: 1 << 20,
            secrets: config.secrets)
    }
}
