import BoBatchHTTP
import Foundation

/// Turns Yay.com's answers into the lane's vocabulary. Pure: everything it needs comes in as arguments.
///
/// The HTTP status decides (201 created, 409 already, 400/422 about the domain); the body only adds the
/// uuid and the wording. Every create is charged, so anything that is not clearly "created", "already"
/// or "refused before processing" is `maybeProcessed`: the lane lists the account's back-orders before
/// it would pay for the same domain again.
enum YayClassifier {
    static let credentialsFix = "check YAY_RESELLER/YAY_USER/YAY_PASSWORD"
    static let fundsFix = "add funds to the Yay.com account (every back-order call is charged)"

    static func transportFailure(_ error: TransportError) -> SubmitResult {
        .transportFailure(error, provider: "Yay.com")
    }

    /// The status that decides: the HTTP status, unless a plain 200 carries another `status_code` in its
    /// envelope (some gateways always answer 200 and put the real status in the body).
    static func effectiveStatus(_ response: HTTPResponse, _ answer: YayAnswer?) -> Int {
        if response.status == 200, let inner = answer?.statusCode, (100..<600).contains(inner) { return inner }
        return response.status
    }

    static func mentionsFunds(_ text: String) -> Bool {
        let t = text.lowercased()
        return ["fund", "balance", "credit", "insufficient", "payment"].contains { t.contains($0) }
    }

    /// `POST /dom/back-order` for one domain.
    static func classifySubmit(_ response: HTTPResponse, domain: DomainName, now: Date) -> SubmitResult {
        let answer = YayAnswer.parse(response.body)
        let status = effectiveStatus(response, answer)
        let said = wording(answer, response: response, status: status)
        let uuid = answer?.uuid

        if status == 402 || ([400, 403, 422].contains(status) && mentionsFunds(said)) {
            return .halt(reason: "Yay.com refused for lack of funds (HTTP \(status): \(said))", fix: fundsFix)
        }
        // The shared reading decides refusals and server errors; Yay's documented 4xx meanings follow.
        let reading = HTTPStatusReading(status: status, retryAfter: response.headers["retry-after"], now: now)
        switch reading.kind {
        case .refused(let wait):
            return .refused(reason: reading.answered(by: "Yay.com") + saying(said, status: status), retryAfterSeconds: wait)
        case .serverError:
            return .maybeProcessed(reason: reading.answered(by: "Yay.com") + saying(said, status: status) + "; checking before any resend")
        case .success, .endpointProblem, .other:
            break
        }
        switch status {
        case 200..<300:
            // The uuid is what cancelling needs: a 201 whose body lost it is settled by a lookup, which has it.
            guard let uuid else {
                return .maybeProcessed(reason: "Yay.com answered HTTP \(status) without the new back-order's uuid (\(said))")
            }
            return .settled([domain: .accepted(reference: uuid, message: "back-order created (\(said))")])
        case 409:
            return .settled([domain: .already(reference: uuid, message: "already back-ordered (\(said))")])
        case 400, 422:
            return .settled([domain: .rejected(message: "Yay.com refused it (HTTP \(status): \(said))")])
        case 401, 403:
            return .halt(reason: "Yay.com refused the credentials (HTTP \(status): \(said))", fix: credentialsFix)
        case 404:
            // The create route itself was not found; a problem with the domain is a documented 400.
            return .halt(reason: "Yay.com answered HTTP 404 to POST /dom/back-order (\(said))", fix: "check YAY_ENDPOINT")
        default:
            return .maybeProcessed(reason: "Yay.com answered HTTP \(status) (\(said)); checking before any resend")
        }
    }

    /// `GET /dom/back-order`: which of `domains` the account holds, with their uuids.
    static func classifyList(_ response: HTTPResponse, domains: [DomainName], now: Date) -> LookupResult {
        let answer = YayAnswer.parse(response.body)
        let status = effectiveStatus(response, answer)
        let said = wording(answer, response: response, status: status)
        let reading = HTTPStatusReading(status: status, retryAfter: response.headers["retry-after"], now: now)
        switch status {
        case 200:
            guard let entries = answer?.entries else {
                return .unavailable(reason: "Yay.com's back-order list has no readable result (\(said))")
            }
            var held: [String: String] = [:]
            for entry in entries { held[normalized(entry.domain)] = held[normalized(entry.domain)] ?? entry.uuid ?? "" }
            var found: [DomainName: String] = [:]
            for domain in domains { if let uuid = held[domain.ascii] { found[domain] = uuid } }
            return .found(found)
        case 401, 403:
            return .halt(reason: "Yay.com refused the credentials (HTTP \(status): \(said))", fix: credentialsFix)
        default:
            // 404 included: an empty list is not proven by an error, and a wrong "absent" would pay twice.
            // A refusal (429, 503 with Retry-After) too: the lookup did not work this time.
            return .unavailable(reason: "GET /dom/back-order: " + reading.answered(by: "Yay.com") + saying(said, status: status))
        }
    }

    /// `DELETE /dom/back-order/{uuid}` for `order`. 2xx and 404 are `cancelled` (a 404 is an order already
    /// withdrawn), except that a 404 once the order's known drop date has come means Yay.com acted on it:
    /// `refused`, never a false "cancelled". 429 and 503 with Retry-After: nothing done. 5xx and a lost answer:
    /// maybe deleted, settled by the list.
    static func classifyCancel(_ outcome: Result<HTTPResponse, TransportError>, order: PlacedOrder, now: Date) -> CancelResult {
        let response: HTTPResponse
        switch outcome {
        case .failure(let error):
            switch error.kind {
            case .neverSent: return .refused(reason: "Yay.com was not reached: \(error.message)", retryAfterSeconds: nil)
            case .maybeProcessed: return .maybeProcessed(reason: "no answer from Yay.com to the DELETE: \(error.message)")
            case .bodyTooLarge: return .maybeProcessed(reason: "Yay.com's answer to the DELETE was too large to read: \(error.message)")
            }
        case .success(let value): response = value
        }
        let answer = YayAnswer.parse(response.body)
        let status = effectiveStatus(response, answer)
        let said = wording(answer, response: response, status: status)
        let reading = HTTPStatusReading(status: status, retryAfter: response.headers["retry-after"], now: now)
        let domain = order.domain
        switch reading.kind {
        case .refused(let wait):
            return .refused(reason: reading.answered(by: "Yay.com") + saying(said, status: status), retryAfterSeconds: wait)
        case .serverError:
            return .maybeProcessed(reason: reading.answered(by: "Yay.com") + saying(said, status: status) + " to the DELETE; checking the list before any resend")
        case .success:
            return .settled([domain: .cancelled(message: "back-order deleted (\(said))")])
        case .endpointProblem, .other:
            break
        }
        switch status {
        case 404:
            if let drop = order.dropTime, now >= YayDay.start(of: drop) {
                return .settled([domain: .refused(message: "Yay.com no longer holds it (HTTP 404: \(said)) and its drop date \(YayDay.text(drop)) has come: it was processed, not withdrawn")])
            }
            return .settled([domain: .cancelled(message: "Yay.com holds no such back-order (HTTP 404: \(said)): already withdrawn")])
        case 401, 403:
            return .halt(reason: "Yay.com refused the credentials (HTTP \(status): \(said))", fix: credentialsFix)
        case 300..<400, 405, 410:
            return .halt(reason: "Yay.com answered HTTP \(status) to DELETE /dom/back-order/{uuid} (\(said))", fix: "check YAY_ENDPOINT")
        case 400..<500:
            return .settled([domain: .refused(message: "Yay.com will not delete it (HTTP \(status): \(said))")])
        default:
            return .maybeProcessed(reason: "Yay.com answered HTTP \(status) (\(said)) to the DELETE; checking the list before any resend")
        }
    }

    /// What Yay.com said, or the start of whatever else answered, or the status's usual name.
    static func wording(_ answer: YayAnswer?, response: HTTPResponse, status: Int) -> String {
        if let answer, !answer.message.isEmpty { return answer.message }
        let text = response.bodyText.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if answer == nil, !text.isEmpty { return text.count > 160 ? String(text.prefix(160)) + "…" : text }
        return reasonPhrase(status)
    }

    /// " (what Yay.com said)", or nothing when that is only the status's usual name.
    static func saying(_ said: String, status: Int) -> String {
        said == reasonPhrase(status) ? "" : " (\(said))"
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 409: "Conflict"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "no message"
        }
    }

    static func normalized(_ domain: String) -> String {
        var d = domain.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        while d.hasSuffix(".") { d.removeLast() }
        return d
    }
}
