import CCurl
import Foundation

/// What libcurl left behind after a failed transfer, turned into a `TransportError`.
///
/// The split between `.neverSent` and `.maybeProcessed` decides whether a paid create may be resent blindly,
/// so every doubt resolves to `.maybeProcessed`: a needless reconciliation costs a lookup, a wrong
/// `.neverSent` can cost a second purchase.
struct CurlFailure: Sendable, Equatable {
    /// The CURLcode's raw value.
    var code: UInt32
    /// CURLINFO_REQUEST_SIZE: bytes of the request libcurl wrote to the connection.
    var requestBytesSent: Int
    /// CURLINFO_PRETRANSFER_TIME_T: non-zero once a connection was ready and the request about to go out.
    var pretransferMicroseconds: Int
    /// CURLINFO_OS_ERRNO: the socket error behind a connect failure (ECONNREFUSED, ETIMEDOUT, ...), or 0.
    var osErrno: Int32 = 0
    /// The write callback refused the body because it passed `maxResponseBytes`.
    var bodyTooLarge: Bool = false
    /// The caller's task was cancelled and the progress callback aborted the transfer.
    var cancelled: Bool = false
    /// libcurl's own explanation (its error buffer), unredacted.
    var detail: String = ""
    /// The CA file the transport verified with (nil: libcurl's defaults), named when verification fails.
    var caFile: String? = nil
    /// libcurl wanted to send a non-idempotent request again (its reused connection closed without an answer)
    /// and the pre-request callback stopped it: the one send that happened may have been processed.
    var resendBlocked: Bool = false

    /// Codes libcurl only returns before the request is written: resolve, connect, TLS handshake, bad input.
    static let beforeSendCodes: Set<UInt32> = [
        CURLE_UNSUPPORTED_PROTOCOL, CURLE_FAILED_INIT, CURLE_URL_MALFORMAT, CURLE_NOT_BUILT_IN,
        CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
        CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ENGINE_NOTFOUND,
        CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_INITFAILED,
        CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
        CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    static let tlsCodes: Set<UInt32> = [
        CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ENGINE_NOTFOUND,
        CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_INITFAILED,
        CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
        CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// Whether no byte of the request can have reached the server.
    var nothingSent: Bool {
        if Self.beforeSendCodes.contains(code) { return true }
        // Both must agree: a connection that was ready may have taken a partial write that
        // REQUEST_SIZE does not count yet.
        return requestBytesSent == 0 && pretransferMicroseconds == 0
    }

    func error(for request: HTTPRequest) -> TransportError {
        let target = CurlFailure.hostAndPort(of: request.url)
        let seconds = CurlFailure.format(seconds: request.timeoutSeconds)
        let connectSeconds = CurlFailure.format(seconds: min(CurlTransport.maxConnectSeconds, request.timeoutSeconds))
        let kind: TransportError.Kind
        let summary: String
        let neverSent = "nothing was sent"
        let maybe = "it may have been processed"

        if resendBlocked {
            kind = .maybeProcessed
            summary = "\(target) closed the kept-alive connection without answering after the request was sent, "
                + "and libcurl's automatic resend was stopped — \(maybe)"
        } else if bodyTooLarge || code == CURLE_FILESIZE_EXCEEDED.rawValue {
            kind = .bodyTooLarge
            summary = "the answer from \(target) is larger than \(request.maxResponseBytes) bytes and was cut off"
                + " — the request was received, its answer is unusable"
        } else if nothingSent {
            kind = .neverSent
            switch code {
            case CURLE_COULDNT_RESOLVE_HOST.rawValue:
                summary = "could not resolve host \(CurlFailure.host(of: request.url)) — \(neverSent)"
            case CURLE_COULDNT_RESOLVE_PROXY.rawValue:
                summary = "could not resolve the proxy for \(target) — \(neverSent)"
            case CURLE_COULDNT_CONNECT.rawValue where osErrno == ECONNREFUSED:
                summary = "connection refused by \(target) — \(neverSent)"
            case CURLE_COULDNT_CONNECT.rawValue:
                summary = "could not connect to \(target) — \(neverSent)"
            case CURLE_PEER_FAILED_VERIFICATION.rawValue:
                summary = "the TLS certificate of \(target) could not be verified with \(trustSource) — \(neverSent)"
                    + "; behind a TLS-inspecting proxy, name a PEM file with its CA in \(CurlTrust.caFileVariable)"
            case CURLE_SSL_CACERT_BADFILE.rawValue:
                summary = "could not load the CA certificates from \(trustSource) — \(neverSent); set "
                    + "\(CurlTrust.caFileVariable) to a readable PEM file, or unset it to use the system store"
            case let tls where CurlFailure.tlsCodes.contains(tls):
                summary = "TLS handshake with \(target) failed — \(neverSent)"
            case CURLE_UNSUPPORTED_PROTOCOL.rawValue:
                summary = "unsupported URL scheme (only http and https are allowed) — \(neverSent)"
            case CURLE_URL_MALFORMAT.rawValue:
                summary = "malformed URL — \(neverSent)"
            case CURLE_OPERATION_TIMEDOUT.rawValue:
                summary = "no connection to \(target) within \(connectSeconds) — \(neverSent)"
            case CURLE_ABORTED_BY_CALLBACK.rawValue where cancelled:
                summary = "cancelled before anything was sent — \(neverSent)"
            case CURLE_BAD_FUNCTION_ARGUMENT.rawValue, CURLE_UNKNOWN_OPTION.rawValue:
                summary = "the request could not be prepared — \(neverSent)"
            default:
                summary = "transfer to \(target) failed before anything was sent — \(neverSent)"
            }
        } else {
            kind = .maybeProcessed
            switch code {
            case CURLE_OPERATION_TIMEDOUT.rawValue:
                summary = "no answer within \(seconds) after the request was sent — \(maybe)"
            case CURLE_GOT_NOTHING.rawValue:
                summary = "\(target) closed the connection without answering after the request was sent — \(maybe)"
            case CURLE_RECV_ERROR.rawValue:
                summary = "the connection to \(target) broke while waiting for the answer — \(maybe)"
            case CURLE_SEND_ERROR.rawValue:
                summary = "the connection to \(target) broke while sending the request — \(maybe)"
            case CURLE_PARTIAL_FILE.rawValue:
                summary = "the answer from \(target) was cut off — \(maybe)"
            case CURLE_ABORTED_BY_CALLBACK.rawValue where cancelled:
                summary = "cancelled after the request was sent — \(maybe)"
            default:
                summary = "transfer to \(target) failed after the request was sent — \(maybe)"
            }
        }

        var context = "\(request.method.rawValue) \(urlForMessages(request.url)); curl \(code)"
        var explanation = CurlFailure.scrub(detail, url: request.url)
        if osErrno != 0, let reason = strerror(osErrno) {
            explanation += explanation.isEmpty ? "" : "; "
            explanation += String(cString: reason)
        }
        if !explanation.isEmpty { context += ": \(explanation)" }
        return TransportError(
            kind: kind, message: redact("\(summary) (\(context))", secrets: request.secrets), code: Int(code))
    }

    private var trustSource: String {
        guard let caFile else { return "the system CA store" }
        return caFile == CurlTrust.systemBundle ? "the system CA store (\(caFile))" : "the CA file \(caFile)"
    }

    // MARK: - URLs in messages

    /// `host:port` with the scheme's default port filled in.
    static func hostAndPort(of url: String) -> String {
        let (scheme, authority) = splitAuthority(url)
        if authority.hasSuffix("]") || !authority.contains(":") {
            let port = scheme == "https" ? 443 : 80
            return "\(authority):\(port)"
        }
        return authority
    }

    static func host(of url: String) -> String {
        let (_, authority) = splitAuthority(url)
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        return String(authority.prefix { $0 != ":" })
    }

    private static func splitAuthority(_ url: String) -> (scheme: String, authority: String) {
        let stripped = urlForMessages(url)
        guard let schemeEnd = stripped.range(of: "://") else { return ("", stripped) }
        let scheme = stripped[..<schemeEnd.lowerBound].lowercased()
        let rest = stripped[schemeEnd.upperBound...]
        return (scheme, String(rest.prefix { $0 != "/" }))
    }

    /// libcurl's explanation may quote the URL: keep only its safe form there too.
    static func scrub(_ detail: String, url: String) -> String {
        var text = detail.trimmingCharacters(in: .whitespacesAndNewlines)
        let safe = urlForMessages(url)
        if safe != url { text = text.replacingOccurrences(of: url, with: safe) }
        if let query = url.firstIndex(where: { $0 == "?" || $0 == "#" }), url.index(after: query) < url.endIndex {
            let secretPart = String(url[url.index(after: query)...])
            text = text.replacingOccurrences(of: secretPart, with: "…")
        }
        return text
    }

    static func format(seconds: Double) -> String {
        String(format: "%g s", seconds)
    }
}
