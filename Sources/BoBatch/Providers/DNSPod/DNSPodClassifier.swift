import BoBatchHTTP
import Foundation

/// Turns DNSPod's answers into the shared vocabulary. Pure functions, so every code is unit-tested without a
/// network. `RedactingProvider` removes the login token from what they return.
///
/// No refusal carries a wait of bo-batch's invention. DNSPod documents none: its common return codes give -2
/// "API使用超出限制" (API use over the limit) and -99 "此功能暂停开放，请稍候重试" (paused, retry later) without a
/// figure. So only an HTTP `Retry-After` is passed on; otherwise the wait is nil and the lane backs off adaptively.
enum DNSPodClassifier {
    /// What the per-domain codes of `Domain.Acquire` / `Domain.Acquiresend` mean. 86 is `Domain.Acquire`'s.
    static func domainMeaning(_ code: String, email: String?) -> String? {
        switch code {
        case "6", "8": "invalid domain"
        case "7": "Chinese characters are not allowed in the domain"
        case "9": "DNSPod does not support getting .tk domains back"
        case "10": "the domain does not exist at DNSPod"
        case "11": "the domain is prohibited at DNSPod and cannot be got back"
        case "12": "the domain is locked at DNSPod and cannot be got back"
        case "13": "DNSPod does not move a domain from a company account to a personal account"
        case "14": "DNSPod does not move a domain from a personal account to a company account"
        case "15": "DNSPod could not get the domain's WHOIS email (network trouble, or the TLD is not supported)"
        case "16": "DNSPod rejected the email address\(email.map { " \(DNSPodEmailChoice.masked($0))" } ?? "")"
        case "86": "DNSPod does not get VIP domains back"
        default: nil
        }
    }

    /// Codes about the account or the API as a whole, the same for every domain and every action.
    static func accountProblem(_ answer: DNSPodAnswer) -> SubmitResult? {
        let said = quote(answer)
        switch answer.code {
        case "-1":
            return .halt(
                reason: "DNSPod login failed: \(said)",
                fix: "check DNSPOD_LOGIN_TOKEN (ID,token as DNSPod showed them when the API token was created); repeated failed logins get the account's API access banned for an hour")
        case "-7":
            return .halt(reason: "DNSPod says this account may not use this API: \(said)", fix: "check the account's plan and the API token's permissions at DNSPod")
        case "-8":
            return .halt(
                reason: "DNSPod has banned this account's API access for a while after too many failed logins: \(said)",
                fix: "check DNSPOD_LOGIN_TOKEN, wait about an hour")
        case "85":
            return .halt(
                reason: "DNSPod refused the login from this place (logged in elsewhere, or login-region protection): \(said)",
                fix: "allow this machine's IP address in the DNSPod account's login protection settings")
        case "83":
            return .halt(reason: "the DNSPod account is locked: \(said)", fix: "ask DNSPod support to unlock the account")
        case "-2":
            // Misuse gets the API banned for about an hour, but DNSPod names no wait for -2: the lane's backoff decides.
            return .refused(reason: "DNSPod says the API is used too frequently: \(said)", retryAfterSeconds: nil)
        case "-99":
            return .refused(reason: "DNSPod has paused this function for now: \(said)", retryAfterSeconds: nil)
        default:
            return nil
        }
    }

    // MARK: Domain.Acquiresend

    static func sendResult(
        domain: DomainName, email: String, source: DNSPodEmailChoice.Source, outcome: Result<HTTPResponse, TransportError>, now: Date
    ) -> SubmitResult {
        .reading(outcome, provider: "DNSPod", status: { httpProblem($0, now: now) }) { response in
            sendResult(domain: domain, email: email, source: source, answer: try DNSPodAnswer(parsing: response.body))
        }
    }

    static func sendResult(domain: DomainName, email: String, source: DNSPodEmailChoice.Source, answer: DNSPodAnswer) -> SubmitResult {
        if answer.code == "1" {
            var message = "verification code mailed to \(DNSPodEmailChoice.masked(email))"
            if source == .offered { message += " (the first address DNSPod offered)" }
            return .settled([domain: .accepted(reference: nil, message: message)])
        }
        if let meaning = domainMeaning(answer.code, email: email) {
            return .settled([domain: .rejected(message: "\(meaning) (DNSPod code \(answer.code))")])
        }
        if let problem = accountProblem(answer) { return problem }
        return .maybeProcessed(reason: "DNSPod answered with a code bo-batch does not know: \(quote(answer))")
    }

    // MARK: Domain.Acquire

    /// The address to use, or what the item's outcome is without a send.
    enum Offer: Sendable, Equatable {
        case email(String)
        case settled(SubmitResult)
    }

    /// Nothing is created by `Domain.Acquire`, so every unclear outcome is a plain refusal: asking again is safe.
    static func offer(domain: DomainName, outcome: Result<HTTPResponse, TransportError>, now: Date) -> Offer {
        let offer: Offer
        switch outcome {
        case .failure(let error):
            offer = .settled(.refused(reason: "DNSPod's address list did not answer: \(error.message)", retryAfterSeconds: nil))
        case .success(let response):
            switch httpProblem(response, now: now) {
            case .refused(let reason, let wait): offer = .settled(.refused(reason: "asking for the address list: \(reason)", retryAfterSeconds: wait))
            case .endpoint(let reason, let fix): offer = .settled(.halt(reason: reason, fix: fix))
            case .unclear(let reason): offer = .settled(.refused(reason: "DNSPod's address list failed: \(reason)", retryAfterSeconds: nil))
            case nil:
                do {
                    offer = self.offer(domain: domain, answer: try DNSPodAnswer(parsing: response.body))
                } catch {
                    offer = .settled(.refused(reason: "DNSPod's address list is unusable: \(error.description)", retryAfterSeconds: nil))
                }
            }
        }
        return offer
    }

    static func offer(domain: DomainName, answer: DNSPodAnswer) -> Offer {
        if answer.code == "1" {
            if let first = answer.emails.first(where: DNSPodEmailChoice.isPlausible) { return .email(first) }
            return .settled(.settled([domain: .rejected(message: "DNSPod offers no WHOIS email address to mail the get-domain-back code to")]))
        }
        if let meaning = domainMeaning(answer.code, email: nil) {
            return .settled(.settled([domain: .rejected(message: "\(meaning) (DNSPod code \(answer.code))")]))
        }
        if let problem = accountProblem(answer) { return .settled(problem) }
        return .settled(.refused(reason: "DNSPod's address list answered with a code bo-batch does not know: \(quote(answer))", retryAfterSeconds: nil))
    }

    // MARK: HTTP status

    typealias HTTPProblem = HTTPStatusProblem

    /// nil for 2xx: the JSON status decides. 429, and 503 with a Retry-After, are refusals: nothing was mailed.
    static func httpProblem(_ response: HTTPResponse, now: Date) -> HTTPProblem? {
        .of(response, provider: "DNSPod", endpointVariable: "DNSPOD_ENDPOINT", defaultEndpoint: DNSPodConfig.defaultEndpoint, now: now)
    }

    // MARK: text

    /// "message (DNSPod code N)": DNSPod's own words, with the code for support requests.
    static func quote(_ answer: DNSPodAnswer) -> String {
        let message = answer.message.isEmpty ? "no message" : answer.message
        return "\(message) (DNSPod code \(answer.code))"
    }
}
