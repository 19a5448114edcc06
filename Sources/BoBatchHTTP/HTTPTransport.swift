import Foundation

/// One HTTP exchange, as the providers describe it. Plain values: the transport decides nothing about them.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST", delete = "DELETE" }

    public var method: Method
    public var url: String
    /// Header names as sent; order kept.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// Whole-exchange limit. Past it the request counts as *maybe processed* if any byte was sent.
    public var timeoutSeconds: Double
    /// A create that costs money is not idempotent: the transport must never send it twice by itself
    /// (libcurl re-sends on a reused connection that closes before answering; `CurlTransport` stops that resend).
    public var idempotent: Bool
    /// Answers larger than this are cut off and reported as `.bodyTooLarge`.
    public var maxResponseBytes: Int
    /// Strings (API keys, passwords, tokens) that must never appear in anything the transport reports.
    public var secrets: [String]
    /// An open file the answer's body is written to as it arrives, instead of being kept in memory (a whole
    /// account's list is many megabytes); the returned `HTTPResponse.body` is then empty. `maxResponseBytes`
    /// still applies. A transport that does not write files ignores it and returns the body as usual, so a
    /// caller reads whichever it got.
    public var bodyFile: Int32? = nil

    public init(
        method: Method, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        timeoutSeconds: Double = 60, idempotent: Bool, maxResponseBytes: Int = 4 << 20, secrets: [String] = []
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
        self.idempotent = idempotent
        self.maxResponseBytes = maxResponseBytes
        self.secrets = secrets
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; a repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Why an exchange produced no usable answer, split by the one question that matters for a paid create:
/// could the server have acted on it?
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Nothing reached the server (resolve, connect, TLS handshake): safe to send again.
        case neverSent
        /// The request left, no complete answer came back (timeout after send, reset, early close):
        /// the server may have processed it. Reconcile before sending again.
        case maybeProcessed
        /// The answer exceeded `maxResponseBytes`; the request was processed, the answer is unusable.
        case bodyTooLarge
    }

    public var kind: Kind
    /// Human-readable, already redacted.
    public var message: String
    /// The libcurl code, for logs and tests.
    public var code: Int

    public init(kind: Kind, message: String, code: Int) {
        self.kind = kind
        self.message = message
        self.code = code
    }

    public var description: String { message }
}

/// The plug-in point between providers and the network.
///
/// Implementation requirements:
/// - Never send a request with `idempotent == false` more than once, whatever happens to the connection.
/// - Throw only `TransportError`, with secrets removed from its message.
/// - Safe to call concurrently; blocking work happens off the Swift concurrency pool.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse
    /// The thread that performs this transport's requests, as an executor for tasks, if it has exactly one: a
    /// task that prefers it sends, waits and reads the answer without ever changing threads (see
    /// ``CurlTransport``). Nil for a transport with several threads, or none of its own.
    var taskExecutor: (any TaskExecutor)? { get }
}

extension HTTPTransport {
    public var taskExecutor: (any TaskExecutor)? { nil }
}

/// Replaces every secret in `text` with `***`.
public func redact(_ text: String, secrets: [String]) -> String {
    var out = text
    for secret in secrets where !secret.isEmpty {
        for form in secretForms(secret) { out = out.replacingOccurrences(of: form, with: "***") }
    }
    return out
}

/// Every form in which `secret` may come back in a message, longest first so that a longer form is replaced
/// before a shorter one inside it: as given; percent-encoded with upper-case hex (ours) and lower-case hex (what
/// other encoders write, `%2f`); form-encoded, a space as `+`; and inside JSON text, `/` escaped as `\/`.
/// Computed once per secret (messages are cleaned for every domain's verdict).
public func secretForms(_ secret: String) -> [String] {
    SecretFormsCache.shared.forms(secret)
}

private final class SecretFormsCache: @unchecked Sendable {
    static let shared = SecretFormsCache()
    private let lock = NSLock()
    private var cache: [String: [String]] = [:]

    func forms(_ secret: String) -> [String] {
        if let known = lock.withLock({ cache[secret] }) { return known }
        let upper = percentEncodeQueryValue(secret)
        // Percent-encoding leaves only ASCII: lower-case the two hex digits after each `%`.
        var bytes = Array(upper.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count {
                for j in i + 1...i + 2 where bytes[j] >= UInt8(ascii: "A") && bytes[j] <= UInt8(ascii: "F") { bytes[j] += 32 }
                i += 3
            } else {
                i += 1
            }
        }
        let lower = String(decoding: bytes, as: UTF8.self)
        let candidates = [secret, upper, lower, upper.replacingOccurrences(of: "%20", with: "+"),
                          secret.replacingOccurrences(of: "/", with: "\\/")]
        var forms: [String] = []
        for form in candidates where !form.isEmpty && !forms.contains(form) { forms.append(form) }
        forms.sort { $0.utf8.count > $1.utf8.count }
        lock.withLock { cache[secret] = forms }
        return forms
    }
}

/// The URL without userinfo, query or fragment, for messages and descriptions: API keys travel in query strings
/// (Dynadot) or userinfo. The one URL stripper: the transport's errors and the providers' endpoint descriptions
/// both use it.
public func urlForMessages(_ url: String) -> String {
    var kept = String(url.prefix { $0 != "?" && $0 != "#" })
    if let schemeEnd = kept.range(of: "://") {
        let authorityEnd = kept[schemeEnd.upperBound...].firstIndex(of: "/") ?? kept.endIndex
        if let at = kept[schemeEnd.upperBound..<authorityEnd].lastIndex(of: "@") {
            kept.removeSubrange(schemeEnd.upperBound...at)
        }
    }
    return kept
}

/// Percent-encodes everything outside RFC 3986's unreserved set, so the result is safe in a query or form value.
/// `keepingCommas` leaves `,` literal (a list separator, as Dynadot's domain list needs it): the same bytes as
/// replacing every `%2C` of the encoded value with `,` afterwards, without a second pass through Foundation.
public func percentEncodeQueryValue(_ value: String, keepingCommas: Bool = false) -> String {
    // Bytes, then one String: appending scalar by scalar (and a fresh hex table per escaped byte) was a visible
    // share of a Dynadot request's CPU, whose hundred domains are one value.
    var out: [UInt8] = []
    out.reserveCapacity(value.utf8.count + 16)
    func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10 }
    for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.append(byte)
        case UInt8(ascii: ",") where keepingCommas:
            out.append(byte)
        default:
            out.append(UInt8(ascii: "%"))
            out.append(hex(byte >> 4))
            out.append(hex(byte & 0xF))
        }
    }
    return String(decoding: out, as: UTF8.self)
}
