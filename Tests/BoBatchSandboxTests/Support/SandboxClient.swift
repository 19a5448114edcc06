import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A plain HTTP answer as the tests see it.
struct SandboxReply: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw SandboxClientError.notAnObject(text)
        }
        return object
    }
}

enum SandboxClientError: Error {
    case notHTTP
    case notAnObject(String)
}

/// Drives the sandbox over real HTTP with URLSession: deliberately none of BoBatch's client code, so these tests
/// check the fakes against the providers' documented wire formats, not against our own parsers.
struct SandboxHTTPClient: Sendable {
    let session: URLSession

    init(timeout: TimeInterval = 60) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpMaximumConnectionsPerHost = 8
        session = URLSession(configuration: configuration)
    }

    func get(_ url: String, headers: [String: String] = [:]) async throws -> SandboxReply {
        try await send("GET", url, headers: headers, body: nil)
    }

    func delete(_ url: String, headers: [String: String] = [:]) async throws -> SandboxReply {
        try await send("DELETE", url, headers: headers, body: nil)
    }

    func postForm(_ url: String, _ fields: [(String, String)], headers: [String: String] = [:]) async throws -> SandboxReply {
        var all = headers
        all["Content-Type"] = "application/x-www-form-urlencoded"
        return try await send("POST", url, headers: all, body: Data(Self.formEncode(fields).utf8))
    }

    func postJSON(_ url: String, _ json: String, headers: [String: String] = [:]) async throws -> SandboxReply {
        var all = headers
        all["Content-Type"] = "application/json"
        return try await send("POST", url, headers: all, body: Data(json.utf8))
    }

    func send(_ method: String, _ url: String, headers: [String: String], body: Data?) async throws -> SandboxReply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw SandboxClientError.notHTTP }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            fields[String(describing: name).lowercased()] = String(describing: value)
        }
        return SandboxReply(status: http.statusCode, headers: fields, body: data)
    }

    /// `application/x-www-form-urlencoded`, written here rather than borrowed from the client under test.
    static func formEncode(_ fields: [(String, String)]) -> String {
        fields.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPad2
            }
        }
        return out
    }
}

private extension String {
    var leftPad2: String { count < 2 ? "0" + self : self }
}

/// Tiny XML lookups for assertions (tag text by name), independent of BoBatchXML.
enum SandboxXMLProbe {
    static func values(_ tag: String, in text: String) -> [String] {
        // Split once, then search only the small pieces: `range(of:)` on a big Substring copies it each time.
        text.components(separatedBy: "<\(tag)>").dropFirst().compactMap { piece in
            piece.range(of: "</\(tag)>").map { String(piece[..<$0.lowerBound]) }
        }
    }

    static func value(_ tag: String, in text: String) -> String? { values(tag, in: text).first }

    static func count(_ tag: String, in text: String) -> Int {
        text.components(separatedBy: "<\(tag)>").count - 1
    }
}
