import BoBatchHTTP
import Foundation

/// Yay.com's REST API: `POST /dom/back-order` (one domain a call, **charged on every call**),
/// `GET /dom/back-order` (the account's whole list) to reconcile and refresh, `DELETE /dom/back-order/{uuid}` to
/// cancel (YayFollowUp.swift).
///
/// Because every create is charged, the create is marked non-idempotent (the transport never replays it)
/// and every unclear answer goes through a lookup before the lane would send it again.
public struct YayProvider: Provider {
    public let id = ProviderID.yay
    public let maxBatch = 1
    public let config: YayConfig
    let transport: any HTTPTransport
    let now: @Sendable () -> Date

    public init(config: YayConfig, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = Date.init) {
        self.config = config
        self.transport = transport
        self.now = now
    }

    public var endpointDescription: String { urlForMessages(config.endpoint) }
    /// Error pages may echo the request's headers; the password must never come back.
    public var secrets: [String] { [config.password] }

    public func submit(_ items: [BackorderItem]) async -> SubmitResult {
        guard let item = items.first else { return .settled([:]) }
        let body = #"{"domain_name":\#(Self.jsonString(item.domain.ascii))}"#
        let request = makeRequest(.post, path: "/dom/back-order", body: Array(body.utf8), idempotent: false)
        do {
            let response = try await transport.send(request)
            return YayClassifier.classifySubmit(response, domain: item.domain, now: now())
        } catch {
            return YayClassifier.transportFailure(error)
        }
    }

    public func lookup(_ items: [BackorderItem]) async -> LookupResult {
        // The list is the whole account: allow a large answer rather than fail on a big account.
        var request = makeRequest(.get, path: "/dom/back-order", body: nil, idempotent: true)
        request.maxResponseBytes = 64 << 20
        do {
            let response = try await transport.send(request)
            return YayClassifier.classifyList(response, domains: items.map(\.domain), now: now())
        } catch {
            return .unavailable(reason: "GET /dom/back-order: \(error.message)")
        }
    }

    func makeRequest(_ method: HTTPRequest.Method, path: String, body: [UInt8]?, idempotent: Bool) -> HTTPRequest {
        var base = config.endpoint
        while base.hasSuffix("/") { base.removeLast() }
        var headers: [(name: String, value: String)] = [
            (name: "X-Auth-Reseller", value: config.reseller),
            (name: "X-Auth-User", value: config.user),
            (name: "X-Auth-Password", value: config.password),
        ]
        if body != nil { headers.append((name: "Content-Type", value: "application/json")) }
        headers.append((name: "Accept", value: "application/json"))
        return HTTPRequest(method: method, url: base + path, headers: headers, body: body, idempotent: idempotent, secrets: [config.password])
    }

    /// `text` as a JSON string literal. Written out rather than through `JSONSerialization`, which costs a
    /// Foundation array, a bridge and a copy for every create.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    func clean(_ text: String) -> String { ProviderText.clean(text, secrets: secrets) }
}
