import BoBatchHTTP
import Foundation

/// What an HTTP status and its `Retry-After` header say before any body is read. Every provider reads them
/// through this one type, for creates and lookups alike, so that no provider drifts from the others.
///
/// | status | kind | why |
/// |---|---|---|
/// | 2xx | `success` | the body decides |
/// | 429 | `refused` | the server turned the request away unserved; the wait is its `Retry-After`, or nil when it named none |
/// | 503 with a readable `Retry-After` | `refused` | "unavailable, come back then": nothing was processed |
/// | 503 without one, every other 5xx | `serverError` | the server (or a gateway in front of it) may have acted |
/// | 3xx, 401, 403, 404, 405, 410 | `endpointProblem` | the URL is wrong or access to it is blocked: the same for every request |
/// | anything else (other 4xx, 1xx) | `other` | no meaning shared by every provider: each decides |
///
/// The wait is only ever the server's own: no provider invents one. Without it the lane backs off adaptively.
struct HTTPStatusReading: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case success
        case refused(retryAfterSeconds: Double?)
        case serverError
        case endpointProblem
        case other
    }

    var status: Int
    var kind: Kind
    /// The `Retry-After` header as sent, when there was one.
    var retryAfterHeader: String?
    /// The header read by `RetryAfter.seconds` (delay-seconds or an HTTP date); nil when absent or unreadable.
    var retryAfterSeconds: Double?

    init(status: Int, retryAfter header: String?, now: Date) {
        self.status = status
        let header = header?.trimmingCharacters(in: .whitespaces)
        self.retryAfterHeader = header
        self.retryAfterSeconds = header.flatMap { RetryAfter.seconds(from: $0, now: now) }
        switch status {
        case 200..<300: kind = .success
        case 429: kind = .refused(retryAfterSeconds: retryAfterSeconds)
        case 503 where retryAfterSeconds != nil: kind = .refused(retryAfterSeconds: retryAfterSeconds)
        case 500..<600: kind = .serverError
        case 300..<400, 401, 403, 404, 405, 410: kind = .endpointProblem
        default: kind = .other
        }
    }

    init(_ response: HTTPResponse, now: Date) {
        self.init(status: response.status, retryAfter: response.headers["retry-after"], now: now)
    }

    /// "HTTP 429 (too many requests), Retry-After 12 s": the status, and for 429/503 what the wait was, since
    /// that is what decided between "refused" and "may have acted".
    var summary: String {
        var text = "HTTP \(status)"
        switch status {
        case 429: text += " (too many requests)"
        case 503: text += " (service unavailable)"
        default: return text
        }
        if let retryAfterSeconds {
            text += ", Retry-After \(Self.secondsText(retryAfterSeconds))"
        } else if let retryAfterHeader, !retryAfterHeader.isEmpty {
            text += ", unreadable Retry-After “\(retryAfterHeader.prefix(40))”"
        } else {
            text += " without Retry-After"
        }
        return text
    }

    /// "Yay.com answered HTTP 503 (service unavailable), Retry-After 7 s": one wording for every provider.
    func answered(by provider: String) -> String {
        "\(provider) answered \(summary)"
    }

    static func secondsText(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }
}

/// What an HTTP status says before the body is read, for APIs that answer 2xx whenever they mean to be read
/// (DNSPod, 1API): `HTTPStatusReading` turned into the three outcomes those classifiers act on.
enum HTTPStatusProblem: Equatable {
    /// Nothing was done (429, 503 with Retry-After); `retryAfterSeconds` is the server's own wait or nil.
    case refused(String, retryAfterSeconds: Double?)
    /// The URL is wrong or access to it is blocked: the same for every request, so the lane stops.
    case endpoint(String, fix: String)
    /// The server may have acted (5xx, or a status with no agreed meaning).
    case unclear(String)

    /// nil for 2xx: the body decides.
    static func of(_ response: HTTPResponse, provider: String, endpointVariable: String, defaultEndpoint: String, now: Date) -> HTTPStatusProblem? {
        let reading = HTTPStatusReading(response, now: now)
        switch reading.kind {
        case .success:
            return nil
        case .refused(let wait):
            return .refused(reading.answered(by: provider), retryAfterSeconds: wait)
        case .endpointProblem:
            return .endpoint(
                "\(provider) answered HTTP \(response.status), not an API answer",
                fix: "check \(endpointVariable) (default \(defaultEndpoint)) and that this machine's IP address may reach it")
        case .serverError, .other:
            return .unclear(reading.answered(by: provider))
        }
    }
}

extension SubmitResult {
    /// A create's transport failure, read the same way for every provider: a request that never left is a
    /// refusal (safe to send again); anything after it left may have been processed.
    static func transportFailure(_ error: TransportError, provider: String) -> SubmitResult {
        switch error.kind {
        case .neverSent: .refused(reason: "\(provider) was not reached: \(error.message)", retryAfterSeconds: nil)
        case .maybeProcessed: .maybeProcessed(reason: "no answer from \(provider): \(error.message)")
        case .bodyTooLarge: .maybeProcessed(reason: "\(provider)'s answer was too large to read: \(error.message)")
        }
    }

    /// The shape of a one-domain create that APIs answering 200 share: the transport, then the status, then the
    /// body, which `read` turns into a result (its error makes the answer "maybe processed", never a verdict).
    static func reading(
        _ outcome: Result<HTTPResponse, TransportError>, provider: String, status: (HTTPResponse) -> HTTPStatusProblem?,
        read: (HTTPResponse) throws -> SubmitResult
    ) -> SubmitResult {
        switch outcome {
        case .failure(let error):
            return transportFailure(error, provider: provider)
        case .success(let response):
            switch status(response) {
            case .refused(let reason, let wait): return .refused(reason: reason, retryAfterSeconds: wait)
            case .endpoint(let reason, let fix): return .halt(reason: reason, fix: fix)
            case .unclear(let reason): return .maybeProcessed(reason: reason)
            case nil:
                do {
                    return try read(response)
                } catch {
                    return .maybeProcessed(reason: "\(provider)'s answer is unusable: \(error)")
                }
            }
        }
    }
}
