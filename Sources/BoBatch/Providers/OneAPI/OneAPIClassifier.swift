import BoBatchHTTP
import Foundation

/// Turns 1API's answers into the shared vocabulary. Pure functions, so every answer shape is unit-tested
/// without a network. `RedactingProvider` cleans what `submit` and `lookup` return; the helpers' answers
/// (`applicationStatus`, `helperAnswer`) are cleaned here, with the same `ProviderText.clean`.
///
/// `EOF` is the format's only end marker: an answer without it was cut short, whatever it says before the cut
/// (an application id `10738` cut to `107` still parses), so it is never a verdict.
///
/// Waits: 1API documents none. Every refusal (HTTP 429, or 503 without a Retry-After, ISPAPI 420/421/423 "client
/// should try again", 425 "usage exceeded", other 4xx) carries none, and the lane's adaptive pacing decides. For
/// 425 that is the right tool too: the account's quota points decay gradually (~20 % a minute, PROVIDERS.md), so a
/// lower rate is what clears it, and the lane's wait grows (up to a minute) for as long as 425s continue.
enum OneAPIClassifier {
    /// Applications in these states no longer hold a backorder: finding one does not prove a recent create landed.
    static let finishedStatuses: Set<String> = ["FAILED", "CANCELLED", "CANCELED", "DELETED", "REJECTED", "EXPIRED"]

    static let credentialsFix = "check ONEAPI_LOGIN and ONEAPI_PASSWORD, and that ONEAPI_ENTITY matches the account (54cd live, 1234 the test system)"
    static let authorizationFix = "check that the 1API account may use the API and backorders from this machine's IP address (1API account settings), and that ONEAPI_ENTITY matches the account (54cd live, 1234 the test system)"
    static let fundsFix = "fund the 1API account's deposit (backorders need a positive balance)"

    // MARK: create

    static func submitResult(
        domain: DomainName, outcome: Result<HTTPResponse, TransportError>, now: Date
    ) -> SubmitResult {
        .reading(outcome, provider: "1API", status: { httpProblem($0, now: now) }) { response in
            submitResult(domain: domain, answer: try ISPAPIResponse(parsing: response.bodyText))
        }
    }

    static func submitResult(domain: DomainName, answer: ISPAPIResponse) -> SubmitResult {
        let said = quote(answer)
        guard answer.reachedEOF else {
            // Nothing from a cut answer is kept: its application id may be a prefix of the real one.
            return .maybeProcessed(reason: "1API's answer was cut short (no EOF line after \(said)); checking before any resend")
        }
        let application = nonEmpty(answer.property("APPLICATION", 0))
        switch answer.code {
        case 200..<300:
            let status = nonEmpty(answer.property("STATUS", 0)) ?? nonEmpty(answer.fields["STATUS"])
            var message = "backorder placed"
            if let application { message += " as application \(application)" }
            if let status { message += ", status \(status)" }
            return .settled([domain: .accepted(reference: application, message: message)])
        case 540:
            return .settled([domain: .already(reference: application, message: "already backordered at 1API: \(said)")])
        case 420, 421, 423:
            return .refused(reason: "1API is temporarily unable to process: \(said)", retryAfterSeconds: nil)
        case 425:
            return .refused(reason: "1API usage quota exceeded, slowing down for it to decay: \(said)", retryAfterSeconds: nil)
        case 400..<500:
            return .refused(reason: "1API answered with a temporary error: \(said)", retryAfterSeconds: nil)
        case 530:
            return .halt(reason: "1API authentication failed: \(said)", fix: credentialsFix)
        case 531:
            return .halt(reason: "1API authorization failed: \(said)", fix: authorizationFix)
        case 546:
            return .halt(reason: "1API credit limit exceeded: \(said)", fix: fundsFix)
        case 500, 503:
            // Command or attribute name not understood: the same for every domain, so rejecting them all would be wrong.
            return .halt(reason: "1API did not understand bo-batch's AddDomainApplication: \(said)", fix: "report this to bo-batch's maintainers; 1API's API may have changed")
        case 500..<600:
            return .settled([domain: .rejected(message: said)])
        default:
            return .maybeProcessed(reason: "1API answered with a code bo-batch does not know: \(said)")
        }
    }

    // MARK: lookup

    static func lookupResult(
        asked: [DomainName], limit: Int, outcome: Result<HTTPResponse, TransportError>, now: Date
    ) -> LookupResult {
        let result: LookupResult
        switch outcome {
        case .failure(let error):
            result = .unavailable(reason: "1API's list did not answer: \(error.message)")
        case .success(let response):
            switch httpProblem(response, now: now) {
            case .refused(let reason, _): result = .unavailable(reason: reason)
            case .endpoint(let reason, let fix): result = .halt(reason: reason, fix: fix)
            case .unclear(let reason): result = .unavailable(reason: reason)
            case nil:
                do {
                    result = lookupResult(asked: asked, limit: limit, answer: try ISPAPIResponse(parsing: response.bodyText))
                } catch {
                    result = .unavailable(reason: "1API's list answer is unusable: \(error.description)")
                }
            }
        }
        return result
    }

    /// Rows are read by index across the parallel arrays. Absence is only claimed when the list is complete
    /// and every row could be attributed to a domain.
    static func lookupResult(asked: [DomainName], limit: Int, answer: ISPAPIResponse) -> LookupResult {
        let said = quote(answer)
        guard answer.reachedEOF else {
            return .unavailable(reason: "1API's list answer was cut short (no EOF line after \(said)); absence is not proven")
        }
        switch answer.code {
        case 200..<300: break
        case 545: return .found([:])
        case 530: return .halt(reason: "1API authentication failed: \(said)", fix: credentialsFix)
        case 531: return .halt(reason: "1API authorization failed: \(said)", fix: authorizationFix)
        case 546: return .halt(reason: "1API credit limit exceeded: \(said)", fix: fundsFix)
        default: return .unavailable(reason: "1API's list failed: \(said)")
        }

        let wanted = Dictionary(asked.map { ($0.ascii, $0) }, uniquingKeysWith: { a, _ in a })
        let applications = answer.properties["APPLICATION"] ?? [:]
        let domains = answer.properties["DOMAIN"] ?? [:]
        let statuses = answer.properties["STATUS"] ?? [:]
        var found: [DomainName: String] = [:]
        var unattributed = 0
        for index in applications.keys.sorted() {
            guard let application = nonEmpty(applications[index]) else { continue }
            guard let raw = nonEmpty(domains[index]) else {
                unattributed += 1
                continue
            }
            let name = raw.lowercased().hasSuffix(".") ? String(raw.lowercased().dropLast()) : raw.lowercased()
            if let status = statuses[index], finishedStatuses.contains(status.uppercased()) { continue }
            if let domain = wanted[name], found[domain] == nil { found[domain] = application }
        }

        let rows = applications.count
        let total = nonEmpty(answer.property("TOTAL", 0) ?? answer.fields["TOTAL"]).flatMap { Int($0) }
        let cutShort = rows >= limit || (total.map { $0 > rows } ?? false)
        if found.count < wanted.count {
            if cutShort {
                return .unavailable(reason: "1API's list was cut short (\(rows) of \(total.map(String.init) ?? "more") applications); absence is not proven")
            }
            if unattributed > 0 {
                return .unavailable(reason: "1API's list has \(unattributed) application(s) without a domain; absence is not proven")
            }
        }
        return .found(found)
    }

    // MARK: helpers' answers

    static func applicationStatus(
        application: String, outcome: Result<HTTPResponse, TransportError>, secrets: [String], now: Date
    ) -> Result<OneAPIApplicationStatus, OneAPIError> {
        helperAnswer(outcome: outcome, secrets: secrets, now: now).map { answer in
            OneAPIApplicationStatus(
                application: application,
                domain: nonEmpty(answer.property("DOMAIN", 0))?.lowercased(),
                status: nonEmpty(answer.property("STATUS", 0)) ?? nonEmpty(answer.fields["STATUS"]),
                properties: answer.propertyLists.mapValues { $0.map { clean($0, secrets: secrets) } })
        }
    }

    /// Any 2xx answer, or the error that says why there is none.
    static func helperAnswer(outcome: Result<HTTPResponse, TransportError>, secrets: [String], now: Date) -> Result<ISPAPIResponse, OneAPIError> {
        let response: HTTPResponse
        switch outcome {
        case .failure(let error):
            return .failure(OneAPIError(kind: .transport(error.kind), message: clean("1API did not answer: \(error.message)", secrets: secrets)))
        case .success(let value):
            response = value
        }
        let reading = HTTPStatusReading(response, now: now)
        guard reading.kind == .success else {
            return .failure(OneAPIError(kind: .http(response.status), message: reading.answered(by: "1API")))
        }
        let answer: ISPAPIResponse
        do {
            answer = try ISPAPIResponse(parsing: response.bodyText)
        } catch {
            return .failure(OneAPIError(kind: .invalidAnswer, message: "1API's answer is unusable: \(error.description)"))
        }
        guard answer.reachedEOF else {
            return .failure(OneAPIError(
                kind: .invalidAnswer, message: clean("1API's answer was cut short (no EOF line after \(quote(answer)))", secrets: secrets)))
        }
        guard (200..<300).contains(answer.code) else {
            return .failure(OneAPIError(kind: .code(answer.code), message: clean(quote(answer), secrets: secrets)))
        }
        return .success(answer)
    }

    // MARK: HTTP status

    typealias HTTPProblem = HTTPStatusProblem

    /// nil for 2xx: the ISPAPI body decides. ISPAPI itself answers 200 even for errors.
    static func httpProblem(_ response: HTTPResponse, now: Date) -> HTTPProblem? {
        .of(response, provider: "1API", endpointVariable: "ONEAPI_ENDPOINT", defaultEndpoint: OneAPIConfig.defaultEndpoint, now: now)
    }

    // MARK: text

    /// "DESCRIPTION (1API code N)": the provider's own words, with the code for support requests.
    static func quote(_ answer: ISPAPIResponse) -> String {
        let description = answer.description.isEmpty ? "no description" : answer.description
        return "\(description) (1API code \(answer.code))"
    }

    /// The helpers' answers leave the provider without passing `RedactingProvider`: they are cleaned here.
    private static func clean(_ text: String, secrets: [String]) -> String {
        ProviderText.clean(text, secrets: secrets)
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, case let trimmed = ISPAPIResponse.trimmed(text, .whitespaces), !trimmed.isEmpty else { return nil }
        return trimmed
    }
}
