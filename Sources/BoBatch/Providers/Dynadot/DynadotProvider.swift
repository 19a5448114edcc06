import BoBatchHTTP
import BoBatchXML
import Foundation

/// Dynadot's api3.xml: `add_backorder_request` for up to 100 domains at once, `backorder_request_list` to
/// reconcile, `is_processing` to learn whether the account may take another request.
///
/// Every parameter travels in the query string, the key too: the key is listed in `HTTPRequest.secrets`
/// and no string this type returns is built from a URL.
public struct DynadotProvider: Provider {
    public let id = ProviderID.dynadot
    public let maxBatch = 100
    public let config: DynadotConfig
    let transport: any HTTPTransport
    let now: @Sendable () -> Date

    public init(config: DynadotConfig, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = Date.init) {
        self.config = config
        self.transport = transport
        self.now = now
    }

    public var endpointDescription: String { urlForMessages(config.endpoint) }
    public var secrets: [String] { [config.apiKey] }

    public func submit(_ items: [BackorderItem]) async -> SubmitResult {
        let domains = items.map(\.domain)
        let request = makeRequest(command: "add_backorder_request", ["domain": domains.map(\.ascii).joined(separator: ",")], idempotent: false)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            return DynadotClassifier.transportFailure(error)
        }
        return DynadotClassifier.classifySubmit(response, domains: domains, now: now())
    }

    public func lookup(_ items: [BackorderItem]) async -> LookupResult {
        let today = now()
        let format = Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day()
        // The list is filtered by date; a wide window around today covers every request that can still matter.
        let start = today.addingTimeInterval(-400 * 86_400).formatted(format)
        let end = today.addingTimeInterval(400 * 86_400).formatted(format)
        let request = makeRequest(
            command: "backorder_request_list", ["startDate": start, "endDate": end], idempotent: true, maxBytes: Self.listingMaxBytes)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            return .unavailable(reason: "backorder_request_list: \(error.message)")
        }
        let reading = HTTPStatusReading(response, now: today)
        guard reading.kind == .success else {
            // A refusal (429, 503 with Retry-After) is no different here: the lookup simply did not work this time.
            return .unavailable(reason: "backorder_request_list: \(reading.answered(by: "Dynadot"))")
        }
        // Streamed: only the asked names are kept, never the account's whole list as a tree.
        let asked = Dictionary(items.map { ($0.domain.ascii, $0.domain) }, uniquingKeysWith: { a, _ in a })
        var found: [DomainName: String] = [:]
        let answer: DynadotAnswer
        do {
            answer = try DynadotAnswer.stream(response.body, maxBytes: Self.listingMaxBytes, records: ["BackorderRequest"]) { entry in
                guard let name = entry.child("DomainName")?.text ?? entry.child("Domain")?.text,
                      let domain = asked[Self.normalized(name)] else { return }
                found[domain] = ""
            }
        } catch {
            return .unavailable(reason: "backorder_request_list answer is not readable XML: \(error.message)")
        }
        guard answer.succeeded else {
            let text = answer.error ?? answer.status ?? "no error text"
            if let halt = DynadotClassifier.accountHalt(text) { return .halt(reason: halt.reason, fix: halt.fix) }
            return .unavailable(reason: "backorder_request_list failed: \(text)")
        }
        return .found(found)
    }

    public var checksAccountBusy: Bool { true }
    public var taskExecutor: (any TaskExecutor)? { transport.taskExecutor }

    public func accountBusy() async -> BusyState {
        let request = makeRequest(command: "is_processing", [:], idempotent: true)
        do {
            let response = try await transport.send(request)
            let (answer, _) = try DynadotAnswer.parse(response.body)
            switch answer.message?.lowercased() {
            case "yes": return .busy
            case "no": return .idle
            default: return .unavailable(reason: "is_processing answered \(answer.error ?? answer.message ?? "nothing usable")")
            }
        } catch let error as TransportError {
            return .unavailable(reason: "is_processing: \(error.message)")
        } catch {
            return .unavailable(reason: "is_processing answer is not readable XML")
        }
    }

    func makeRequest(command: String, _ params: [String: String], idempotent: Bool, maxBytes: Int = 1 << 20) -> HTTPRequest {
        var query = "key=\(percentEncodeQueryValue(config.apiKey))&command=\(command)"
        for (name, value) in params.sorted(by: { $0.key < $1.key }) {
            // Commas separate the domain list and must stay literal (encoded in the same pass: Foundation's
            // `replacingOccurrences` over a hundred domains' query was 3 % of a run's CPU).
            query += "&\(name)=\(percentEncodeQueryValue(value, keepingCommas: true))"
        }
        let separator = config.endpoint.contains("?") ? "&" : "?"
        return HTTPRequest(
            method: .get, url: config.endpoint + separator + query, headers: [("Accept", "application/xml")],
            timeoutSeconds: 120, idempotent: idempotent, maxResponseBytes: maxBytes, secrets: [config.apiKey])
    }
}

/// Dynadot's answers, sorted into bo-batch's vocabulary. Pure functions, so every answer shape is unit-tested.
enum DynadotClassifier {
    static func transportFailure(_ error: TransportError) -> SubmitResult {
        .transportFailure(error, provider: "Dynadot")
    }

    /// `now` reads an HTTP-date `Retry-After`.
    static func classifySubmit(_ response: HTTPResponse, domains: [DomainName], now: Date = Date()) -> SubmitResult {
        // api3 answers 200 even for errors, so any other status is the server's or a gateway's, not the API's.
        let reading = HTTPStatusReading(response, now: now)
        switch reading.kind {
        case .success:
            break
        case .refused(let wait):
            return .refused(reason: reading.answered(by: "Dynadot"), retryAfterSeconds: wait)
        case .endpointProblem where [401, 403].contains(response.status):
            return .halt(
                reason: "Dynadot refused access (HTTP \(response.status))",
                fix: "check DYNADOT_API_KEY and that this machine's IP address is on the API whitelist (Dynadot: Tools → API)")
        case .endpointProblem, .serverError, .other:
            return .maybeProcessed(reason: reading.answered(by: "Dynadot"))
        }
        let answer: DynadotAnswer
        do {
            (answer, _) = try DynadotAnswer.parse(response.body)
        } catch {
            return .maybeProcessed(reason: "Dynadot's answer is not readable XML (\(error.message))")
        }
        if answer.succeeded {
            return .settled(Dictionary(uniqueKeysWithValues: domains.map { ($0, Verdict.accepted(reference: nil, message: "backorder request added")) }))
        }
        let text = answer.error ?? answer.status ?? "error without a message"
        return classifyError(text, domains: domains)
    }

    static func classifyError(_ text: String, domains: [DomainName]) -> SubmitResult {
        if let halt = accountHalt(text) { return .halt(reason: halt.reason, fix: halt.fix) }
        let lower = text.lowercased()
        let busyMarkers = ["system_busy", "system busy", "busy", "is processing", "being processed", "another request", "too many requests", "try again later", "rate limit"]
        if busyMarkers.contains(where: lower.contains) {
            return .refused(reason: "Dynadot is busy: \(text)", retryAfterSeconds: nil)
        }
        let verdict: Verdict
        if lower.contains("already on your backorder") || lower.contains("already in your backorder") {
            verdict = .already(reference: nil, message: "already on the Dynadot backorder request list")
        } else {
            verdict = .rejected(message: text)
        }
        let knownAboutDomain = lower.contains("already on your backorder") || lower.contains("could not find backorder")
            || lower.contains("not in pending") || lower.contains("invalid domain") || lower.contains("not supported")
        if domains.count == 1, knownAboutDomain {
            return .settled([domains[0]: verdict])
        }
        return .batchFailed(reason: text, verdictIfAlone: verdict)
    }

    /// Account-level errors: nothing the next domain can fix, so the lane stops at once.
    static func accountHalt(_ text: String) -> (reason: String, fix: String)? {
        let lower = text.lowercased()
        if lower.contains("invalid key") || lower.contains("api key") || lower.contains("key is invalid") || lower.contains("wrong key") {
            return ("Dynadot rejected the API key: \(text)", "check DYNADOT_API_KEY (Dynadot: Tools → API)")
        }
        if lower.contains("ip") && (lower.contains("whitelist") || lower.contains("not allowed") || lower.contains("allowed ip")) {
            return ("Dynadot refused this machine's IP address: \(text)", "add this machine's public IP address to the API whitelist (Dynadot: Tools → API)")
        }
        if lower.contains("insufficient") || lower.contains("not enough") || lower.contains("balance") || lower.contains("funds") {
            return ("Dynadot account has insufficient funds: \(text)", "add funds to the Dynadot account, then rerun")
        }
        if lower.contains("account") && (lower.contains("locked") || lower.contains("suspended") || lower.contains("disabled") || lower.contains("not allowed")) {
            return ("Dynadot account cannot use the API: \(text)", "check the account's API access in Dynadot's control panel")
        }
        return nil
    }
}
