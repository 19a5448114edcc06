import Foundation
import Hummingbird

/// Dynadot api3 (seed 002): `GET /dynadot/api3.xml?key=KEY&command=...`, always HTTP 200, the XML decides.
///
/// Played behaviour (where the real API is undocumented, the choice is marked *chosen*):
/// - Wrong or missing key: `<Response><ResponseHeader><ResponseCode>-1</ResponseCode><Error>invalid key</Error>`.
/// - `add_backorder_request&domain=a.com,b.net` takes at most 100 names ("too many domains"). *Chosen*: the
///   names are processed in order; if all are acceptable all are added and the answer is success; otherwise the
///   acceptable names before the first bad one are added (partial effect) and the answer is `SuccessCode -1`
///   with the first problem only: "NAME is already on your backorder request list", "could not find backorder
///   fot this domain" (sic; not pending delete, see ``PendingDeleteRule``) or "invalid domain name".
/// - One request at a time per key (``ProviderFaults/concurrentRequestsPerKey``, default 1): every command but
///   `is_processing` holds the key's "processing" flag while it runs, injected latency and hangs included; a
///   request arriving meanwhile gets "another request is being processed" and `is_processing` answers "yes".
/// - `delete_backorder_request` (same list rules), `backorder_request_list` (`startDate`/`endDate`
///   `yyyy-mm-dd` filter the cutoff day when both parse; otherwise everything is listed).
/// - After the drop (issue 11), every held order answers by ``BackorderDestiny`` at the sandbox clock, placed at
///   its effective create. *Chosen* (the seed shows only `Active`): `backorder_request_list` says `Active` before
///   the cutoff, then `Won` (caught directly: the account says so), `Lost`, `Redeemed`, or `In Auction` while
///   its auction is open (also listed by `get_open_backorder_auctions`, with `BidPrice`, USD and `EndTimestamp`);
///   once the auction closes the request leaves the list and `get_closed_backorder_auctions` (`startDate`/
///   `endDate` filter the auction's end day) lists it with `AuctionWonStatus` `won` or `lost`.
/// - `delete_backorder_request` removes a request only before its cutoff (counted as an effective cancel);
///   *chosen*: past the cutoff (in an auction, won, lost, redeemed) it answers "cannot delete NAME, its backorder
///   request is past the cutoff time"; a name it does not hold, "NAME is not on your backorder request list".
///   Like add, the names are taken in order and the first problem stops the rest (partial effect).
///   Deletes go through the fault pipeline as cancels (a plan's faults always apply, hold gates do not); the lists as
///   lookups.
/// - Faults: refuse = `system_busy`; `busyWindow` N = after a failed request the next N requests of the key
///   see the account busy (`is_processing` "yes", other commands "another request is being processed").
final class DynadotFake: FakeProvider {
    let name = "dynadot"
    static let maxDomainsPerRequest = 100

    private struct Entry: Codable {
        var domain: String
        var cutoffMs: Int64
        /// The sandbox clock at the effective create: the order resolves from it (``BackorderDestiny``).
        var placedAt: Date
        /// Insertion number, so the list keeps the order requests were added in.
        var sequence: Int
    }

    private struct Account {
        var entries: [String: Entry] = [:]
        /// Domains in the order they were added, with the number each had then: the place of a request deleted
        /// (or deleted and added again) is skipped when listing, so a delete costs no scan.
        var order: [(domain: String, sequence: Int)] = []
        var nextSequence = 0
        var processing = 0
        var busyRequests = 0

        /// The held requests in the order they were added.
        var ordered: [Entry] {
            order.compactMap { item in entries[item.domain].flatMap { $0.sequence == item.sequence ? $0 : nil } }
        }

        mutating func hold(_ domain: String, cutoffMs: Int64, placedAt: Date) {
            entries[domain] = Entry(domain: domain, cutoffMs: cutoffMs, placedAt: placedAt, sequence: nextSequence)
            order.append((domain, nextSequence))
            nextSequence += 1
        }

        mutating func remove(_ domain: String) {
            entries[domain] = nil
            if order.count > 64, order.count > 2 * entries.count { order = ordered.map { ($0.domain, $0.sequence) } }
        }
    }

    private let accounts = Locked([String: Account]())
    private let responseCounter = Locked(0)
    let pipeline: FaultPipeline

    init(pipeline: FaultPipeline) {
        self.pipeline = pipeline
    }

    func reset() {
        accounts.withLock { accounts in
            // Keep the processing counts of requests still running, so their release stays balanced.
            accounts = accounts.filter { $0.value.processing > 0 }.mapValues { Account(processing: $0.processing) }
        }
    }

    func register(on router: Router<SandboxRequestContext>) {
        router.get("dynadot/api3.xml") { request, context in
            try await self.handle(request, context)
        }
    }

    // MARK: Handling

    private func handle(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let query = FormFields(encoded: request.uri.query ?? "")
        let command = query.value(caseInsensitive: "command") ?? ""
        stats.request(name, command.isEmpty ? "(none)" : command)

        if let failure = injector.accountFailure(name) {
            return generalError(failure == .credentials ? "invalid key" : "ip address not in whitelist").response
        }
        guard let key = query.value(caseInsensitive: "key"),
              SandboxCredentials.accountSuffix(key, base: SandboxCredentials.dynadotKey) != nil
        else {
            return generalError("invalid key").response
        }
        if injector.overRateLimit(name, account: key) {
            return refuseAnswer(variant: 0, command: command).response
        }

        switch command {
        case "is_processing":
            let outcome = try await pipeline.run(self, kind: .lookup, command: command, account: key,
                                                 contentKey: command, context: context) {
                let busy = accounts.withLock { accounts -> Bool in
                    // Taken out of the map while it changes, so its storage is not copied on every request.
                    var account = accounts.removeValue(forKey: key) ?? Account()
                    defer { accounts[key] = account }
                    if account.busyRequests > 0 {
                        account.busyRequests -= 1
                        return true
                    }
                    return account.processing > 0
                }
                return isProcessingAnswer(busy)
            }
            return outcome.response

        case "add_backorder_request", "delete_backorder_request", "backorder_request_list",
             "get_open_backorder_auctions", "get_closed_backorder_auctions":
            let limit = injector.faults(for: name).concurrentRequestsPerKey
            let acquired = accounts.withLock { accounts -> Bool in
                // Taken out of the map while it changes, so its storage is not copied on every request.
                var account = accounts.removeValue(forKey: key) ?? Account()
                defer { accounts[key] = account }
                if account.busyRequests > 0 {
                    account.busyRequests -= 1
                    return false
                }
                guard account.processing < limit else { return false }
                account.processing += 1
                return true
            }
            guard acquired else {
                stats.busyRejection(name)
                return commandError(command, "another request is being processed").response
            }
            // Busy until the answer leaves, which may be after this returns (``FaultPipeline/whenAnswered``).
            var outcome: PipelineOutcome?
            defer {
                let accounts = accounts
                pipeline.whenAnswered(outcome, context: context) { accounts.withLock { $0[key, default: Account()].processing -= 1 } }
            }

            let domains = Self.domainList(query.value(caseInsensitive: "domain"))
            // A delete changes the account as a create does, so a fault plan's drops and 5xx apply to it too.
            let kind: RequestKind = switch command {
            case "add_backorder_request": .create
            case "delete_backorder_request": .cancel
            default: .lookup
            }
            var failed = false
            let answered = try await pipeline.run(self, kind: kind, command: command, account: key,
                                                  contentKey: domains.joined(separator: ","), context: context) {
                let (answer, ok) = process(command, key: key, domains: domains, query: query)
                failed = !ok
                return answer
            }
            outcome = answered
            if failed || answered.fault != nil {
                let window = injector.faults(for: name).busyWindow
                if window > 0 {
                    stats.fault(name, .busyWindow)
                    accounts.withLock { $0[key, default: Account()].busyRequests = window }
                }
            }
            return answered.response

        case "":
            return generalError("missing command").response
        default:
            return generalError("unsupported command: \(command)").response
        }
    }

    static func domainList(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { PendingDeleteRule.normalize(String($0)) }.filter { !$0.isEmpty }
    }

    private func process(_ command: String, key: String, domains: [String], query: FormFields) -> (Answer, Bool) {
        switch command {
        case "add_backorder_request": add(key: key, domains: domains)
        case "delete_backorder_request": delete(key: key, domains: domains)
        case "get_open_backorder_auctions": (openAuctions(key: key), true)
        case "get_closed_backorder_auctions": (closedAuctions(key: key, query: query), true)
        default: (list(key: key, query: query), true)
        }
    }

    private func add(key: String, domains: [String]) -> (Answer, Bool) {
        let command = "add_backorder_request"
        if domains.isEmpty { return (commandError(command, "missing domain"), false) }
        if domains.count > Self.maxDomainsPerRequest { return (commandError(command, "too many domains"), false) }
        let now = clock.now()
        let problem = accounts.withLock { accounts -> String? in
            // Taken out of the map while it changes, so its storage is not copied on every request.
            var account = accounts.removeValue(forKey: key) ?? Account()
            defer { accounts[key] = account }
            for domain in domains {
                switch PendingDeleteRule.verdict(for: domain) {
                case .invalidName: return "invalid domain name"
                case .registered, .unsupportedTLD: return "could not find backorder fot this domain"
                case .pendingDelete: break
                }
                if account.entries[domain] != nil { return "\(domain) is already on your backorder request list" }
                let cutoff = Int64(BackorderDestiny.dropTime(of: domain, placedAt: now).timeIntervalSince1970 * 1000)
                account.hold(domain, cutoffMs: cutoff, placedAt: now)
                stats.create(name, domain)
            }
            return nil
        }
        if let problem { return (commandError(command, problem), false) }
        return (commandSuccess(command), true)
    }

    private func delete(key: String, domains: [String]) -> (Answer, Bool) {
        let command = "delete_backorder_request"
        if domains.isEmpty { return (commandError(command, "missing domain"), false) }
        if domains.count > Self.maxDomainsPerRequest { return (commandError(command, "too many domains"), false) }
        let now = clock.now()
        let problem = accounts.withLock { accounts -> String? in
            // Taken out of the map while it changes, so its storage is not copied on every request.
            var account = accounts.removeValue(forKey: key) ?? Account()
            defer { accounts[key] = account }
            for domain in domains {
                guard let entry = account.entries[domain] else {
                    return "\(domain) is not on your backorder request list"
                }
                guard resolve(entry, now: now).stage == .waiting else {
                    return "cannot delete \(domain), its backorder request is past the cutoff time"
                }
                account.remove(domain)
                stats.cancel(name, domain)
            }
            return nil
        }
        if let problem { return (commandError(command, problem), false) }
        return (commandSuccess(command), true)
    }

    private func resolve(_ entry: Entry, now: Date) -> BackorderDestiny.Phase {
        BackorderDestiny.phase(of: entry.domain, provider: name, placedAt: entry.placedAt, now: now)
    }

    /// The request list's status word for a phase; nil: the request has left the list (its auction closed).
    private static func listStatus(_ phase: BackorderDestiny.Phase) -> String? {
        switch phase.stage {
        case .waiting: "Active"
        case .inAuction: "In Auction"
        case .won: phase.wasAuction ? nil : "Won"
        case .lost: phase.wasAuction ? nil : "Lost"
        case .redeemed: "Redeemed"
        }
    }

    private func list(key: String, query: FormFields) -> Answer {
        let now = clock.now()
        var entries = accounts.withLock { accounts in accounts[key, default: Account()].ordered }
        if let start = query.value(caseInsensitive: "startDate").flatMap(SandboxDates.parseDate),
           let end = query.value(caseInsensitive: "endDate").flatMap(SandboxDates.parseDate) {
            let low = Int64(start.timeIntervalSince1970 * 1000)
            let high = Int64((end.timeIntervalSince1970 + 86_400) * 1000)
            entries = entries.filter { $0.cutoffMs >= low && $0.cutoffMs < high }
        }
        let filler = injector.faults(for: name).hugeList
        let drift = driftThisAnswer()
        var xml = XMLWriter(declaration: true, indented: false, reservingCapacity: 200 + (entries.count + filler) * 180)
        xml.element("BackorderRequestListResponse") { xml in
            xml.element("BackorderRequestListHeader") { xml in
                xml.leaf(drift ? "ResponseCode" : "SuccessCode", "0")
                xml.leaf("Status", "success")
            }
            xml.element("BackorderRequestListContent") { xml in
                xml.element("BackorderRequestList") { xml in
                    func entry(_ domain: String, _ cutoff: Int64, _ status: String = "Active") {
                        xml.element("BackorderRequest") { xml in
                            xml.leaf(drift ? "Domain" : "DomainName", domain)
                            xml.leaf("CutoffTime", String(cutoff))
                            xml.leaf("BackorderRequestStatus", status)
                        }
                    }
                    for item in entries {
                        guard let status = Self.listStatus(resolve(item, now: now)) else { continue }
                        entry(item.domain, item.cutoffMs, status)
                    }
                    let fillerCutoff = (entries.first?.cutoffMs ?? 1_403_914_140_000)
                    for index in 0..<filler {
                        entry("sandbox-filler-" + String(index + 1).leftPadded(to: 6) + ".com", fillerCutoff)
                    }
                }
            }
        }
        return .xml(xml.text)
    }

    /// Auction numbers are stable per domain, so two answers name the same auction alike.
    private func auctionID(_ domain: String) -> String {
        String(10_000 + StableRandom.value(seed: 0, ["auction-id", name, domain]) % 90_000_000)
    }

    private func auctionElement(_ xml: inout XMLWriter, _ entry: Entry, _ phase: BackorderDestiny.Phase, closed: Bool) {
        let ends = phase.auctionEnds ?? phase.dropTime
        let price = "\(phase.price ?? 0).00"
        let bids = String(2 + StableRandom.value(seed: 0, ["bids", name, entry.domain]) % 9)
        xml.element("Auction") { xml in
            if closed {
                let won = phase.stage == .won
                xml.leaf("AuctionWonStatus", won ? "won" : "lost")
                xml.leaf("YourHighBid", won ? price : "\(max((phase.price ?? 1) - 1, 0)).00")
                xml.leaf("YourProxyBid", won ? price : "\(max((phase.price ?? 1) - 1, 0)).00")
            }
            xml.leaf("AuctionId", auctionID(entry.domain))
            xml.leaf("Domain", entry.domain)
            if closed {
                xml.leaf("AuctionStatusId", "4")
                xml.leaf("AuctionStatus", "Closed by Timeout")
            }
            xml.leaf("BidPrice", price)
            xml.leaf("BidPriceCurrency", "USD")
            xml.leaf("Bids", bids)
            xml.leaf("EndTime", Self.auctionTimeText(ends))
            xml.leaf("EndTimestamp", String(Int64(ends.timeIntervalSince1970 * 1000)))
        }
    }

    /// The auctions of the account's orders still open. *Chosen*: only this account's (the real list is every
    /// open backorder auction); `currency` is ignored, prices are USD.
    private func openAuctions(key: String) -> Answer {
        let now = clock.now()
        let entries = accounts.withLock { accounts in accounts[key, default: Account()].ordered }
        let drift = driftThisAnswer()
        var xml = XMLWriter(declaration: true, indented: false, reservingCapacity: 200 + entries.count * 40)
        xml.element("GetOpenBackorderAuctionsResponse") { xml in
            xml.element("GetOpenBackorderAuctionsHeader") { xml in
                xml.leaf(drift ? "ResponseCode" : "SuccessCode", "0")
                xml.leaf("Status", "success")
            }
            xml.element("GetOpenBackorderAuctionsContent") { xml in
                for entry in entries {
                    let phase = resolve(entry, now: now)
                    if phase.stage == .inAuction { auctionElement(&xml, entry, phase, closed: false) }
                }
            }
        }
        return .xml(xml.text)
    }

    /// The account's closed auctions, `startDate`/`endDate` filtering the day the auction ended when both parse.
    private func closedAuctions(key: String, query: FormFields) -> Answer {
        let now = clock.now()
        let entries = accounts.withLock { accounts in accounts[key, default: Account()].ordered }
        var range: Range<Date>?
        if let start = query.value(caseInsensitive: "startDate").flatMap(SandboxDates.parseDate),
           let end = query.value(caseInsensitive: "endDate").flatMap(SandboxDates.parseDate) {
            range = start..<max(start, end.addingTimeInterval(86_400))
        }
        let drift = driftThisAnswer()
        var xml = XMLWriter(declaration: true, indented: false, reservingCapacity: 200 + entries.count * 60)
        xml.element("GetClosedBackorderAuctionsResponse") { xml in
            xml.element("GetClosedBackorderAuctionsHeader") { xml in
                xml.leaf(drift ? "ResponseCode" : "SuccessCode", "0")
                xml.leaf("Status", "success")
            }
            xml.element("GetClosedBackorderAuctionsContent") { xml in
                for entry in entries {
                    let phase = resolve(entry, now: now)
                    guard phase.wasAuction, phase.stage == .won || phase.stage == .lost, let ends = phase.auctionEnds else { continue }
                    if let range, !range.contains(ends) { continue }
                    auctionElement(&xml, entry, phase, closed: true)
                }
            }
        }
        return .xml(xml.text)
    }

    /// "2015/04/28 05:46 UTC", as the seed writes `EndTime` (built by hand: DateFormatter per auction is slow).
    static func auctionTimeText(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)/\(two(parts.tm_mon + 1))/\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)) UTC"
    }

    // MARK: Memory

    private struct Memory: Codable {
        /// API key → the key's requests in the order they were added.
        var accounts: [String: [Entry]]
    }

    func placedOrders() -> [String: Date] {
        accounts.withLock { accounts in
            var out: [String: Date] = [:]
            for account in accounts.values {
                for (domain, entry) in account.entries { out[domain] = entry.placedAt }
            }
            return out
        }
    }

    func snapshot() -> Data? {
        let memory = accounts.withLock { accounts in
            Memory(accounts: accounts.filter { !$0.value.entries.isEmpty }.mapValues(\.ordered))
        }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        encoder.outputFormatting = .sortedKeys
        return try? encoder.encode(memory)
    }

    func restore(_ data: Data) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        let memory = try decoder.decode(Memory.self, from: data)
        accounts.withLock { accounts in
            // Requests still running keep their processing counts, as in ``reset()``.
            var restored = accounts.filter { $0.value.processing > 0 }.mapValues { Account(processing: $0.processing) }
            for (key, entries) in memory.accounts {
                var account = restored[key] ?? Account()
                for entry in entries { account.hold(entry.domain, cutoffMs: entry.cutoffMs, placedAt: entry.placedAt) }
                restored[key] = account
            }
            accounts = restored
        }
    }

    // MARK: Answers

    private func driftThisAnswer() -> Bool {
        let probability = injector.faults(for: name).fieldDrift
        guard probability > 0 else { return false }
        let counter = responseCounter.withLock { value -> Int in
            value += 1
            return value
        }
        let drift = injector.draw(name, "fieldDrift", String(counter)) < probability
        if drift { stats.fault(name, .fieldDrift) }
        return drift
    }

    private static func envelope(_ command: String) -> (root: String, header: String) {
        switch command {
        case "add_backorder_request": ("AddBackorderRequestResponse", "AddBackorderRequestHeader")
        case "delete_backorder_request": ("DeleteBackorderRequestResponse", "DeleteBackorderRequestHeader")
        case "backorder_request_list": ("BackorderRequestListResponse", "BackorderRequestListHeader")
        case "get_open_backorder_auctions": ("GetOpenBackorderAuctionsResponse", "GetOpenBackorderAuctionsHeader")
        case "get_closed_backorder_auctions": ("GetClosedBackorderAuctionsResponse", "GetClosedBackorderAuctionsHeader")
        default: ("Response", "ResponseHeader")
        }
    }

    private func commandSuccess(_ command: String) -> Answer {
        let (root, header) = Self.envelope(command)
        let drift = driftThisAnswer()
        var xml = XMLWriter(indented: false)
        xml.element(root) { xml in
            xml.element(header) { xml in
                xml.leaf(drift ? "ResponseCode" : "SuccessCode", "0")
                xml.leaf("Status", "success")
            }
        }
        return .xml(xml.text)
    }

    private func commandError(_ command: String, _ message: String) -> Answer {
        let (root, header) = Self.envelope(command)
        guard root != "Response" else { return generalError(message) }
        let drift = driftThisAnswer()
        var xml = XMLWriter(indented: false)
        xml.element(root) { xml in
            xml.element(header) { xml in
                xml.leaf(drift ? "ResponseCode" : "SuccessCode", "-1")
                xml.leaf("Status", "error")
                xml.leaf("Error", message)
            }
        }
        return .xml(xml.text)
    }

    /// The command-independent error form.
    private func generalError(_ message: String) -> Answer {
        var xml = XMLWriter(indented: false)
        xml.element("Response") { xml in
            xml.element("ResponseHeader") { xml in
                xml.leaf("ResponseCode", "-1")
                xml.leaf("Error", message)
            }
        }
        return .xml(xml.text)
    }

    private func isProcessingAnswer(_ busy: Bool) -> Answer {
        var xml = XMLWriter(indented: false)
        xml.element("Response") { xml in
            xml.element("ResponseHeader") { xml in
                xml.leaf("ResponseCode", "0")
                xml.leaf("ResponseMsg", busy ? "yes" : "no")
            }
        }
        return .xml(xml.text)
    }

    func refuseAnswer(variant: UInt64, command: String) -> Answer {
        variant % 2 == 0 ? commandError(command, "system_busy") : generalError("system_busy")
    }

    func hostileResponse(variant: UInt64, bytes: Int, normal: Answer) -> Response {
        let root = Self.rootName(of: normal.body) ?? "Response"
        switch variant % 3 {
        case 0:
            var doctype = "<?xml version=\"1.0\"?>\n<!DOCTYPE \(root) [\n  <!ENTITY lol \"lol\">\n"
            for level in 1...9 {
                let previous = level == 1 ? "lol" : "lol\(level - 1)"
                doctype += "  <!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">\n"
            }
            doctype += "]>\n"
            let body = doctype + normal.body.replacingOccurrences(of: "<Status>success</Status>", with: "<Status>&lol9;</Status>")
            return Answer.xml(body).response
        case 1:
            let doctype = "<?xml version=\"1.0\"?>\n<!DOCTYPE \(root) [\n  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n  <!ENTITY net SYSTEM \"http://127.0.0.1:9/sandbox-xxe\">\n]>\n"
            let body = doctype + normal.body.replacingOccurrences(of: "<Status>", with: "<Status>&xxe;&net;")
            return Answer.xml(body).response
        default:
            return Self.paddedResponse(bytes: bytes, normal: normal)
        }
    }

    private static func rootName(of xml: String) -> String? {
        var rest = Substring(xml)
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            if rest.first == "?" || rest.first == "!" { continue }
            return String(rest.prefix { $0 != ">" && $0 != " " && $0 != "/" })
        }
        return nil
    }
}
