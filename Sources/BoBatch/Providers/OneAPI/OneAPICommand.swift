import BoBatchHTTP
import Foundation

/// One ISPAPI command as form fields, and the HTTP request that carries it.
struct OneAPICommand: Sendable, Equatable {
    struct Field: Sendable, Equatable {
        var name: String
        var value: String
    }

    var fields: [Field]
    /// Only reads and deletes may be re-sent by the transport; an application create may not.
    var idempotent: Bool
    /// Lists can be long; single-object answers are a few hundred bytes.
    var maxResponseBytes: Int

    /// `NEW=1` is never sent: it makes 1API create a second application for a domain that has one,
    /// which would turn every retry into a duplicate instead of a harmless 540.
    static func addBackorder(_ domain: DomainName) -> OneAPICommand {
        OneAPICommand(
            fields: [.init(name: "command", value: "AddDomainApplication"), .init(name: "class", value: "BACKORDER"), .init(name: "domain", value: domain.ascii)],
            idempotent: false, maxResponseBytes: 1 << 20)
    }

    /// One domain goes as `domain`, the documented form; several as `domain0`…`domainN` in one request, so a
    /// reconciliation of a hundred interrupted pairs costs one call, not a hundred.
    static func queryBackorders(_ domains: [DomainName], limit: Int) -> OneAPICommand {
        var fields: [Field] = [.init(name: "command", value: "QueryDomainApplicationList"), .init(name: "class", value: "BACKORDER")]
        if domains.count == 1 {
            fields.append(.init(name: "domain", value: domains[0].ascii))
        } else {
            for (i, domain) in domains.enumerated() { fields.append(.init(name: "domain\(i)", value: domain.ascii)) }
        }
        fields.append(.init(name: "first", value: "0"))
        fields.append(.init(name: "limit", value: String(limit)))
        return OneAPICommand(fields: fields, idempotent: true, maxResponseBytes: 4 << 20)
    }

    static func statusApplication(_ application: String) -> OneAPICommand {
        OneAPICommand(
            fields: [.init(name: "command", value: "StatusDomainApplication"), .init(name: "application", value: application)],
            idempotent: true, maxResponseBytes: 1 << 20)
    }

    /// A repeated delete answers 545, so the transport may re-send it.
    static func deleteApplication(_ application: String) -> OneAPICommand {
        OneAPICommand(
            fields: [.init(name: "command", value: "DeleteDomainApplication"), .init(name: "application", value: application)],
            idempotent: true, maxResponseBytes: 1 << 20)
    }

    /// Credentials travel in the POST body, never in the URL, so no proxy or access log records the password.
    func httpRequest(config: OneAPIConfig) -> HTTPRequest {
        let all = [Field(name: "s_entity", value: config.entity.rawValue), Field(name: "s_login", value: config.login), Field(name: "s_pw", value: config.password)] + fields
        let body = all.map { "\(percentEncodeQueryValue($0.name))=\(percentEncodeQueryValue($0.value))" }.joined(separator: "&")
        return HTTPRequest(
            method: .post, url: config.endpoint,
            headers: [
                (name: "Content-Type", value: "application/x-www-form-urlencoded"),
                (name: "User-Agent", value: BoBatchVersion.userAgent),
            ],
            body: Array(body.utf8), idempotent: idempotent, maxResponseBytes: maxResponseBytes,
            secrets: [config.password])
    }
}
