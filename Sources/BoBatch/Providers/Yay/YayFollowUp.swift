import BoBatchHTTP
import Foundation

/// Yay.com after the create (issue 11): what its API can say about a placed back-order, and withdrawing one.
///
/// Yay.com's API (seed 001) has no status: `GET /dom/back-order` lists the account's *active* back-orders
/// (`domain_name`, `uuid`, `expires_on`, `created_on`, `updated_on`), and an order simply leaves that list once
/// it is no longer active. So:
///
/// - `refresh` reads the whole list in one call (`refreshBatch` `Int.max`; the seed shows no paging). An order
///   still listed is `waiting` (found by the kept uuid, else by its domain, whose uuid is then reported).
///   One no longer listed is `gone` ("Yay.com no longer lists it and cannot say why") when its drop date has
///   come (the `PlacedOrder.dropTime` the ledger passes: the input's drop date, or the `expires_on` an earlier
///   refresh reported as `endsAt`), and also when no drop date is known (the list holds active orders only, so
///   leaving it means Yay acted). Before a known drop date it is `unknown` with that reason: an order that
///   vanished early was withdrawn or refused outside bo-batch, and the next refresh asks again.
/// - `cancel` is `DELETE /dom/back-order/{uuid}`, one order a request, with the kept uuid; an order without one
///   is first looked up by domain in the list (never guessed). 204 is `cancelled`; 404 too (already withdrawn),
///   unless the order's drop date has passed, when Yay no longer holding it means it was processed: `refused`.
///   Any other 4xx is Yay's refusal (the sandbox answers 409 Conflict past the drop). The DELETE is sent at most
///   once (not idempotent for the transport): a lost answer is `maybeProcessed`, settled by `lookup`.
extension YayProvider {
    public var followUp: FollowUpSupport {
        FollowUpSupport(refreshBatch: Int.max, refreshNote: nil, cancelBatch: 1, cancelNote: nil)
    }

    public func refresh(_ orders: [PlacedOrder], now: Date) async -> RefreshResult {
        if orders.isEmpty { return .fates([:]) }
        let entries: [YayAnswer.Entry]
        switch await activeList() {
        case .entries(let list): entries = list
        case .refused(let reason, let wait): return .refused(reason: reason, retryAfterSeconds: wait)
        case .unavailable(let reason): return .unavailable(reason: reason)
        case .halt(let reason, let fix): return .halt(reason: reason, fix: fix)
        }
        let listed = YayListIndex(entries)
        var reports: [DomainName: FateReport] = [:]
        reports.reserveCapacity(orders.count)
        for order in orders {
            reports[order.domain] = Self.fate(of: order, in: listed, now: now)
        }
        return .fates(reports)
    }

    public func cancel(_ orders: [PlacedOrder]) async -> CancelResult {
        guard let order = orders.first else { return .settled([:]) }
        guard orders.count == 1 else {
            return .halt(
                reason: "internal error: Yay.com takes one order per cancel, \(orders.count) were given; nothing was sent",
                fix: "report this bug to bo-batch: nothing was sent")
        }
        var uuid = order.reference?.trimmingCharacters(in: .whitespaces) ?? ""
        if uuid.isEmpty {
            // Without the kept uuid the order is named by what Yay.com lists for its domain, or not at all.
            let entries: [YayAnswer.Entry]
            switch await activeList() {
            case .entries(let list): entries = list
            case .refused(let reason, let wait): return .refused(reason: reason + "; nothing was deleted", retryAfterSeconds: wait)
            case .unavailable(let reason):
                return .refused(reason: "no uuid kept for it, and the list to find one failed: \(reason); nothing was deleted", retryAfterSeconds: nil)
            case .halt(let reason, let fix): return .halt(reason: reason, fix: fix)
            }
            guard let entry = YayListIndex(entries).byDomain[order.domain.ascii] else {
                return .settled([order.domain: Self.notListedVerdict(order, now: now())])
            }
            guard let found = entry.uuid, !found.isEmpty else {
                return .settled([order.domain: .refused(message: "Yay.com lists it without a uuid, so there is no way to name it in a DELETE")])
            }
            uuid = found
        }
        guard Self.isUUID(uuid) else {
            return .settled([order.domain: .refused(message: "\(clean(uuid)) is not a Yay.com back-order uuid; nothing was sent")])
        }
        // Sent at most once: a DELETE whose answer was lost is settled by the list, like a create.
        let request = makeRequest(.delete, path: "/dom/back-order/\(uuid)", body: nil, idempotent: false)
        let outcome: Result<HTTPResponse, TransportError>
        do {
            outcome = .success(try await transport.send(request))
        } catch {
            outcome = .failure(error)
        }
        return YayClassifier.classifyCancel(outcome, order: order, now: now()).mapText(clean)
    }

    // MARK: The pieces

    enum ActiveList {
        case entries([YayAnswer.Entry])
        case refused(reason: String, retryAfterSeconds: Double?)
        case unavailable(reason: String)
        case halt(reason: String, fix: String)
    }

    /// `GET /dom/back-order`, read as a list (strings cleaned of secrets).
    func activeList() async -> ActiveList {
        var request = makeRequest(.get, path: "/dom/back-order", body: nil, idempotent: true)
        // The whole account in one answer: allow a large one (100,000 orders are about 20 MB), as `lookup` does.
        request.maxResponseBytes = 64 << 20
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            return .unavailable(reason: clean("GET /dom/back-order: \(error.message)"))
        }
        // The usual answer, a 200 with the list, is decoded without a Foundation object tree (YayActiveList).
        if response.status == 200, let list = YayActiveList.decode(response.body), list.statusCode == nil || list.statusCode == 200 {
            return .entries(list.entries)
        }
        let answer = YayAnswer.parse(response.body)
        let status = YayClassifier.effectiveStatus(response, answer)
        let said = YayClassifier.wording(answer, response: response, status: status)
        let reading = HTTPStatusReading(status: status, retryAfter: response.headers["retry-after"], now: now())
        switch (status, reading.kind) {
        case (200, _):
            guard let entries = answer?.entries else {
                return .unavailable(reason: clean("Yay.com's back-order list has no readable result (\(said))"))
            }
            return .entries(entries)
        case (401, _), (403, _):
            return .halt(reason: clean("Yay.com refused the credentials (HTTP \(status): \(said))"), fix: YayClassifier.credentialsFix)
        case (_, .refused(let wait)):
            return .refused(reason: clean("GET /dom/back-order: " + reading.answered(by: "Yay.com") + YayClassifier.saying(said, status: status)), retryAfterSeconds: wait)
        default:
            return .unavailable(reason: clean("GET /dom/back-order: " + reading.answered(by: "Yay.com") + YayClassifier.saying(said, status: status)))
        }
    }

    /// What a listed or unlisted order means now.
    static func fate(of order: PlacedOrder, in listed: YayListIndex, now: Date) -> FateReport {
        let kept = order.reference?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if !kept.isEmpty, let entry = listed.byUUID[kept] {
            return waiting(entry, reference: nil)
        }
        if let entry = listed.byDomain[order.domain.ascii] {
            // Found by its domain: the uuid Yay.com lists is the one a cancel must name.
            let uuid = entry.uuid.flatMap { $0.isEmpty ? nil : $0 }
            return waiting(entry, reference: uuid?.lowercased() == kept ? nil : uuid)
        }
        guard let drop = order.dropTime, now < YayDay.start(of: drop) else {
            let known = order.dropTime.map { " (its drop date \(YayDay.text($0)) has come)" } ?? ""
            return FateReport(fate: .gone, detail: "Yay.com no longer lists it and cannot say why\(known)")
        }
        return FateReport(
            fate: .unknown,
            detail: "Yay.com no longer lists it, before its drop date \(YayDay.text(drop)): withdrawn or refused outside bo-batch? asked again on the next refresh")
    }

    private static func waiting(_ entry: YayAnswer.Entry, reference: String?) -> FateReport {
        let expires = entry.expiresOn.flatMap(YayDay.parse)
        var detail = "listed as an active back-order"
        if let expires { detail += " (expires_on \(YayDay.text(expires)))" }
        return FateReport(fate: .waiting, detail: detail, endsAt: expires, reference: reference)
    }

    /// The verdict for an order without a kept uuid that Yay.com does not list.
    static func notListedVerdict(_ order: PlacedOrder, now: Date) -> CancelVerdict {
        if let drop = order.dropTime, now < YayDay.start(of: drop) {
            return .cancelled(message: "Yay.com holds no active back-order for it: nothing to withdraw")
        }
        return .refused(message: "Yay.com no longer lists it (its drop date has come or is not known): nothing left to withdraw, and Yay.com cannot say what became of it")
    }

    /// Hex digits and dashes: anything else would change the DELETE's path, so it is never sent.
    static func isUUID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { $0 == UInt8(ascii: "-") || ($0 < 128 && Character(Unicode.Scalar($0)).isHexDigit) }
    }
}

/// The active list by lowercased uuid and by normalised domain (the first entry wins, as in `lookup`).
struct YayListIndex {
    var byUUID: [String: YayAnswer.Entry] = [:]
    var byDomain: [String: YayAnswer.Entry] = [:]

    init(_ entries: [YayAnswer.Entry]) {
        byUUID.reserveCapacity(entries.count)
        byDomain.reserveCapacity(entries.count)
        for entry in entries {
            if let uuid = entry.uuid?.lowercased(), !uuid.isEmpty, byUUID[uuid] == nil { byUUID[uuid] = entry }
            let domain = YayClassifier.normalized(entry.domain)
            if byDomain[domain] == nil { byDomain[domain] = entry }
        }
    }
}

/// Yay.com's dates are UTC days (`2018-08-01`); a drop "has come" from the first second of its day on.
enum YayDay {
    /// `YYYY-MM-DD` (a time after it is ignored) as the start of that UTC day; nil when it is not one.
    static func parse(_ text: String) -> Date? {
        let parts = text.prefix(10).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(daysFromCivil(y, m, d)) * 86_400)
    }

    static func start(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }

    static func text(_ date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let (y, m, d) = civil(fromDays: days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))"
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
