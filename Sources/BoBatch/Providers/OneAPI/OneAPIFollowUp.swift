import BoBatchHTTP
import Foundation

// After the create (issue 11). `refresh` reads `QueryDomainApplicationList` filtered to the asked domains
// (`DOMAIN0…N`, up to 100 a call, paged with FIRST/LIMIT): one request answers for 100 orders where
// `StatusDomainApplication` needs one each, and it finds orders whose application id the ledger never got. Only
// applications in an auction state are then asked with `StatusDomainApplication`, for the auction's end, bid and
// currency, which the list does not carry. `cancel` is one `DeleteDomainApplication` of the kept id.

extension OneAPIProvider {
    /// Domains per refresh call: 100 `DOMAINn` filters keep the request small (a few kB) and the answer within
    /// one page of 1,000 rows even when every domain has several old applications.
    static let refreshDomains = 100
    /// Rows per list page: the `LIMIT` reconciliation already asks for (1API caps it at its own default when lower).
    static let refreshPageSize = 1000
    /// Pages read before the list counts as cut short (the missing orders are then `unknown`, asked again later).
    static let refreshMaxPages = 10

    public var followUp: FollowUpSupport {
        FollowUpSupport(refreshBatch: Self.refreshDomains, cancelBatch: 1)
    }

    /// How 1API's application status words map to fates. REQUESTED and ACTIVE wait for the drop; PROCESSING is the
    /// catch under way (not decided yet, so still waiting); SUCCESSFUL and AUCTION-WON are ours; FAILED (not
    /// caught: someone else's catch, or the owner renewed, which 1API does not tell apart) and AUCTION-LOST are lost.
    static func fate(ofStatus status: String) -> Fate {
        switch status.uppercased() {
        case "REQUESTED", "ACTIVE", "PROCESSING": .waiting
        case "AUCTION-PENDING": .inAuction
        case "AUCTION-WON", "SUCCESSFUL": .won
        case "AUCTION-LOST", "FAILED": .lost
        case "CANCELLED", "CANCELED", "DELETED": .cancelled
        default: .unknown
        }
    }

    // MARK: refresh

    public func refresh(_ orders: [PlacedOrder], now _: Date) async -> RefreshResult {
        var seen = Set<DomainName>()
        let asked = orders.filter { seen.insert($0.domain).inserted }
        guard !asked.isEmpty else { return .fates([:]) }

        // Every application of the asked domains, page by page.
        var rows: [ApplicationRow] = []
        var complete = false
        var first = 0
        for _ in 0..<Self.refreshMaxPages {
            let command = OneAPICommand.queryBackorders(asked.map(\.domain), first: first, limit: Self.refreshPageSize)
            let page: ListPage
            switch Self.listPage(outcome: await send(command.httpRequest(config: config)), now: now()) {
            case .success(let value): page = value
            case .failure(let stop): return stop.result
            }
            rows += page.rows
            first += max(page.rowCount, 1)
            if page.rowCount == 0 || page.total.map({ first >= $0 }) ?? (page.rowCount < Self.refreshPageSize) {
                complete = true
                break
            }
        }

        var reports: [DomainName: FateReport] = [:]
        for order in asked {
            guard let row = Self.pick(rows, for: order) else {
                reports[order.domain] = complete
                    ? FateReport(fate: .gone, detail: "1API no longer lists an application for it (deleted outside bo-batch?)")
                    : FateReport(fate: .unknown, detail: "1API's list was longer than \(Self.refreshMaxPages) pages; asked again next time")
                continue
            }
            reports[order.domain] = await report(for: row)
        }
        return .fates(reports)
    }

    /// One application as the list gives it.
    struct ApplicationRow: Sendable, Equatable {
        var application: String
        var domain: String
        var status: String
    }

    struct ListPage: Sendable {
        var rows: [ApplicationRow]
        /// Rows the page carried, attributed or not (the next FIRST moves by this).
        var rowCount: Int
        var total: Int?
    }

    struct Stop: Error {
        var result: RefreshResult
    }

    /// One page of `QueryDomainApplicationList`, or the refresh result that ends the call.
    static func listPage(outcome: Result<HTTPResponse, TransportError>, now: Date) -> Result<ListPage, Stop> {
        let response: HTTPResponse
        switch outcome {
        case .failure(let error):
            return .failure(Stop(result: error.kind == .neverSent
                ? .refused(reason: "1API was not reached: \(error.message)", retryAfterSeconds: nil)
                : .unavailable(reason: "1API's list did not answer: \(error.message)")))
        case .success(let value):
            response = value
        }
        switch OneAPIClassifier.httpProblem(response, now: now) {
        case .refused(let reason, let wait)?: return .failure(Stop(result: .refused(reason: reason, retryAfterSeconds: wait)))
        case .endpoint(let reason, let fix)?: return .failure(Stop(result: .halt(reason: reason, fix: fix)))
        case .unclear(let reason)?: return .failure(Stop(result: .unavailable(reason: reason)))
        case nil: break
        }
        let answer: ISPAPIResponse
        do {
            answer = try ISPAPIResponse(parsing: response.bodyText)
        } catch {
            return .failure(Stop(result: .unavailable(reason: "1API's list answer is unusable: \(error.description)")))
        }
        let said = OneAPIClassifier.quote(answer)
        guard answer.reachedEOF else {
            return .failure(Stop(result: .unavailable(reason: "1API's list answer was cut short (no EOF line after \(said))")))
        }
        switch answer.code {
        case 200..<300: break
        case 545: return .success(ListPage(rows: [], rowCount: 0, total: 0))
        case 420, 421, 423:
            return .failure(Stop(result: .refused(reason: "1API is temporarily unable to process: \(said)", retryAfterSeconds: nil)))
        case 425:
            return .failure(Stop(result: .refused(reason: "1API usage quota exceeded, slowing down for it to decay: \(said)", retryAfterSeconds: nil)))
        case 400..<500:
            return .failure(Stop(result: .refused(reason: "1API answered with a temporary error: \(said)", retryAfterSeconds: nil)))
        case 530: return .failure(Stop(result: .halt(reason: "1API authentication failed: \(said)", fix: OneAPIClassifier.credentialsFix)))
        case 531: return .failure(Stop(result: .halt(reason: "1API authorization failed: \(said)", fix: OneAPIClassifier.authorizationFix)))
        case 546: return .failure(Stop(result: .halt(reason: "1API credit limit exceeded: \(said)", fix: OneAPIClassifier.fundsFix)))
        default: return .failure(Stop(result: .unavailable(reason: "1API's list failed: \(said)")))
        }
        let applications = answer.properties["APPLICATION"] ?? [:]
        let domains = answer.properties["DOMAIN"] ?? [:]
        let statuses = answer.properties["STATUS"] ?? [:]
        var rows: [ApplicationRow] = []
        rows.reserveCapacity(applications.count)
        for index in applications.keys.sorted() {
            guard let application = trimmed(applications[index]), let domain = trimmed(domains[index]) else { continue }
            var name = domain.lowercased()
            while name.hasSuffix(".") { name.removeLast() }
            rows.append(ApplicationRow(application: application, domain: name, status: trimmed(statuses[index]) ?? ""))
        }
        let total = trimmed(answer.property("TOTAL", 0) ?? answer.fields["TOTAL"]).flatMap { Int($0) }
        return .success(ListPage(rows: rows, rowCount: applications.count, total: total))
    }

    /// The kept application when the list has it; otherwise the domain's newest (highest id), so an order whose
    /// id was never recorded, or one placed again, is still followed (and its id handed back in the report).
    static func pick(_ rows: [ApplicationRow], for order: PlacedOrder) -> ApplicationRow? {
        let mine = rows.filter { $0.domain == order.domain.ascii }
        if let reference = order.reference, let kept = mine.first(where: { $0.application == reference }) { return kept }
        return mine.max { a, b in
            switch (Int(a.application), Int(b.application)) {
            case let (x?, y?): x < y
            default: a.application < b.application
            }
        }
    }

    /// The fate the list's status word gives; for an auction, `StatusDomainApplication` adds end, bid and currency.
    private func report(for row: ApplicationRow) async -> FateReport {
        let fate = Self.fate(ofStatus: row.status)
        var report = FateReport(
            fate: fate,
            detail: fate == .unknown ? "1API status \(row.status.isEmpty ? "(none)" : row.status), which bo-batch does not know" : row.status,
            reference: row.application)
        guard row.status.uppercased().hasPrefix("AUCTION-") && row.status.uppercased() != "AUCTION-LOST" else { return report }
        // Best effort: the fate stands on the list's word; a failed detail call only leaves the amounts out.
        guard let status = try? await status(application: row.application) else { return report }
        func value(_ name: String) -> String? { Self.trimmed(status.properties[name]?.first) }
        report.price = row.status.uppercased() == "AUCTION-WON"
            ? value("AUCTION-PRICE") ?? value("AUCTION-BESTBID")
            : value("AUCTION-BESTBID") ?? value("AUCTION-MINIMUMBID")
        report.currency = report.price == nil ? nil : value("AUCTION-CURRENCY")
        report.endsAt = value("AUCTION-ENDDATE").flatMap { DropDateParser.parse($0) }
        if let auction = value("AUCTION-STATUS"), auction.uppercased() != row.status.uppercased() {
            report.detail += " (auction: \(auction))"
        }
        return report
    }

    static func trimmed(_ text: String?) -> String? {
        guard let t = text?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return nil }
        return t
    }

    // MARK: cancel

    /// `DeleteDomainApplication` of the kept application id. An order without one is first found by domain in
    /// the list (one more request): none listed means nothing to withdraw.
    public func cancel(_ orders: [PlacedOrder]) async -> CancelResult {
        guard let order = orders.first else { return .settled([:]) }
        var application = order.reference.flatMap { Self.trimmed($0) }
        if application == nil {
            let command = OneAPICommand.queryBackorders([order.domain], first: 0, limit: Self.refreshPageSize)
            switch Self.listPage(outcome: await send(command.httpRequest(config: config)), now: now()) {
            case .failure(let stop):
                switch stop.result {
                case .halt(let reason, let fix): return .halt(reason: reason, fix: fix)
                case .refused(let reason, let wait): return .refused(reason: reason, retryAfterSeconds: wait)
                case .unavailable(let reason):
                    return .refused(reason: "1API's list did not say which application to delete: \(reason)", retryAfterSeconds: nil)
                case .fates:
                    return .refused(reason: "1API's list did not say which application to delete", retryAfterSeconds: nil)
                }
            case .success(let page):
                guard let row = Self.pick(page.rows.filter { Self.fate(ofStatus: $0.status) != .cancelled }, for: order) else {
                    return .settled([order.domain: .cancelled(message: "1API holds no application for it: nothing to withdraw")])
                }
                application = row.application
            }
        }
        guard let application else { return .settled([:]) }
        let command = OneAPICommand.deleteApplication(application)
        return Self.cancelResult(domain: order.domain, application: application,
                                 outcome: await send(command.httpRequest(config: config)), now: now())
    }

    static func cancelResult(
        domain: DomainName, application: String, outcome: Result<HTTPResponse, TransportError>, now: Date
    ) -> CancelResult {
        let response: HTTPResponse
        switch outcome {
        case .failure(let error):
            switch error.kind {
            case .neverSent: return .refused(reason: "1API was not reached: \(error.message)", retryAfterSeconds: nil)
            case .maybeProcessed: return .maybeProcessed(reason: "no answer from 1API: \(error.message)")
            case .bodyTooLarge: return .maybeProcessed(reason: "1API's answer was too large to read: \(error.message)")
            }
        case .success(let value):
            response = value
        }
        switch OneAPIClassifier.httpProblem(response, now: now) {
        case .refused(let reason, let wait)?: return .refused(reason: reason, retryAfterSeconds: wait)
        case .endpoint(let reason, let fix)?: return .halt(reason: reason, fix: fix)
        case .unclear(let reason)?: return .maybeProcessed(reason: reason)
        case nil: break
        }
        let answer: ISPAPIResponse
        do {
            answer = try ISPAPIResponse(parsing: response.bodyText)
        } catch {
            return .maybeProcessed(reason: "1API's answer to DeleteDomainApplication is unusable: \(error.description)")
        }
        let said = OneAPIClassifier.quote(answer)
        guard answer.reachedEOF else {
            return .maybeProcessed(reason: "1API's answer was cut short (no EOF line after \(said)); checking before any resend")
        }
        switch answer.code {
        case 200..<300:
            return .settled([domain: .cancelled(message: "1API deleted application \(application)")])
        case 545:
            // Already gone (an earlier delete whose answer was lost, or the web console): what cancel wanted.
            return .settled([domain: .cancelled(message: "1API no longer has application \(application): \(said)")])
        case 552:
            return .settled([domain: .refused(message: "1API will not delete application \(application) in its present state (won, or the catch under way): \(said)")])
        case 420, 421, 423:
            return .refused(reason: "1API is temporarily unable to process: \(said)", retryAfterSeconds: nil)
        case 425:
            return .refused(reason: "1API usage quota exceeded, slowing down for it to decay: \(said)", retryAfterSeconds: nil)
        case 400..<500:
            return .refused(reason: "1API answered with a temporary error: \(said)", retryAfterSeconds: nil)
        case 530: return .halt(reason: "1API authentication failed: \(said)", fix: OneAPIClassifier.credentialsFix)
        case 531: return .halt(reason: "1API authorization failed: \(said)", fix: OneAPIClassifier.authorizationFix)
        case 546: return .halt(reason: "1API credit limit exceeded: \(said)", fix: OneAPIClassifier.fundsFix)
        case 500, 503:
            return .halt(reason: "1API did not understand bo-batch's DeleteDomainApplication: \(said)",
                         fix: "report this to bo-batch's maintainers; 1API's API may have changed")
        case 500..<600:
            return .settled([domain: .refused(message: "1API refused to delete application \(application): \(said)")])
        default:
            return .maybeProcessed(reason: "1API answered with a code bo-batch does not know: \(said)")
        }
    }
}

extension OneAPICommand {
    /// One page of the asked domains' applications (`DOMAIN0…N`, `FIRST`, `LIMIT`).
    static func queryBackorders(_ domains: [DomainName], first: Int, limit: Int) -> OneAPICommand {
        var command = queryBackorders(domains, limit: limit)
        if let index = command.fields.firstIndex(where: { $0.name == "first" }) { command.fields[index].value = String(first) }
        return command
    }
}
