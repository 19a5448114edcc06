import BoBatchHTTP
import Foundation

/// An in-memory `HTTPTransport` for provider unit tests: records every request and answers from a script.
/// Loopback tests use the real `CurlTransport`; this one is for request-building and parsing tests.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    typealias Responder = @Sendable (HTTPRequest) throws(TransportError) -> HTTPResponse

    private let lock = NSLock()
    private var _requests: [HTTPRequest] = []
    private let responder: Responder

    init(_ responder: @escaping Responder) { self.responder = responder }

    /// Answers every request with the same status and body.
    convenience init(status: Int = 200, body: String, headers: [String: String] = [:]) {
        self.init { _ in HTTPResponse(status: status, headers: headers, body: Array(body.utf8)) }
    }

    var requests: [HTTPRequest] { lock.withLock { _requests } }

    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        lock.withLock { _requests.append(request) }
        return try responder(request)
    }
}

extension HTTPRequest {
    /// Form or query fields, decoded (for asserting on what a provider sent).
    var formFields: [String: String] {
        let raw: String
        if let body { raw = String(decoding: body, as: UTF8.self) } else { raw = URLComponents(string: url)?.percentEncodedQuery ?? "" }
        var out: [String: String] = [:]
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let decode = { (s: String) in s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? s }
            out[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return out
    }

    var queryFields: [String: String] {
        var out: [String: String] = [:]
        for item in URLComponents(string: url)?.queryItems ?? [] { out[item.name] = item.value ?? "" }
        return out
    }
}
