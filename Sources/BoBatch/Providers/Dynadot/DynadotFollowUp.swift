import BoBatchHTTP
import BoBatchXML
import Foundation

/// After the create (issue 11): what became of each backorder request, and withdrawing requests before their
/// cutoff. Dynadot identifies requests by domain and answers for the whole account, so:
///
/// - `refresh` reads `backorder_request_list` once for every asked order (status and `CutoffTime` per request),
///   and only when some asked order may be in an auction (it left the list, or its status says auction) also
///   `get_open_backorder_auctions` (end time, current bid) and, for those not open, `get_closed_backorder_auctions`
///   (`AuctionWonStatus`, `BidPrice`), over the days the orders' drops span.
/// - `cancel` is `delete_backorder_request` for up to 100 domains; the answer is one status for all of them.
///
/// The lists of a 100,000-request account are megabytes: each is streamed record by record
/// (``DynadotAnswer/stream(_:maxBytes:records:visit:)``) and only the asked domains' records are kept.
extension DynadotProvider {
    /// The largest whole-account answer read (the lists of a 100,000-request account are about 15 MB; the open
    /// auctions list is every open backorder auction at Dynadot, not only the account's).
    static let listingMaxBytes = 256 << 20
    public static let cancelBatch = 100

    public var followUp: FollowUpSupport {
        FollowUpSupport(refreshBatch: Int.max, refreshStreams: true, cancelBatch: Self.cancelBatch)
    }

    // MARK: refresh

    /// One dictionary of every order's report, for a caller that has the orders as an array (tests, and any
    /// lane that does not stream): the same answers as the streaming refresh below, collected.
    public func refresh(_ orders: [PlacedOrder], now: Date) async -> RefreshResult {
        guard !orders.isEmpty else { return .fates([:]) }
        let set = OrderSet(orders)
        let collected = FateCollector()
        let result = await refresh(set, now: now, into: collected.add)
        guard case .fates = result else { return result }
        return .fates(collected.reports(in: set))
    }

    /// The whole-account refresh, without a report per order in memory: the request list is read once into two
    /// compact arrays (its status word, interned, and `CutoffTime` per asked order); an auction list is read twice
    /// from its answer, first to choose each order's latest auction (an order may be listed more than once), then
    /// to hand those reports to `sink`; the remaining orders' reports go last, in the set's order. Nothing is
    /// handed over before the answers it rests on were read completely; a listing that fails after the open
    /// auctions were handed over keeps those (the rest are asked again by a rerun).
    public func refresh(_ orders: OrderSet, now: Date, into sink: @escaping FateSink) async -> RefreshResult {
        guard let span = orders.span else { return .fates([:]) }
        let n = orders.count
        var slicer = FateSlicer(sink)

        // The request list, filtered by the cutoff day: from the earliest placement or drop to well past the latest.
        var words = StatusWords()
        var status = [UInt16](repeating: 0, count: n)
        var cutoffs = [Double](repeating: .nan, count: n)
        let latest = max(now, span.latest)
        let listFailure = await listing(
            "backorder_request_list",
            ["startDate": Self.day(span.earliest.addingTimeInterval(-2 * 86_400)), "endDate": Self.day(latest.addingTimeInterval(400 * 86_400))],
            record: "BackorderRequest"
        ) { entry in
            guard let name = entry.child("DomainName")?.text ?? entry.child("Domain")?.text,
                  let index = orders.index(of: Self.normalized(name)) else { return }
            status[index] = words.code(entry.child("BackorderRequestStatus")?.text ?? "")
            cutoffs[index] = entry.child("CutoffTime").flatMap { Self.date(milliseconds: $0.text) }?.timeIntervalSince1970 ?? .nan
        }
        if let listFailure { return listFailure.refreshResult }
        func listed(_ index: Int) -> DynadotListedRequest? {
            guard status[index] != 0 else { return nil }
            return DynadotListedRequest(status: words.word(status[index]), cutoff: cutoffs[index].isNaN ? nil : Date(timeIntervalSince1970: cutoffs[index]))
        }

        // Only an order that left the list or whose status says auction can be in one.
        func mayBeInAuction(_ index: Int) -> Bool { status[index] == 0 || words.fate(status[index]) == .inAuction }
        var pending = [Bool](repeating: false, count: n)
        var candidates = 0
        for i in 0..<n where mayBeInAuction(i) {
            pending[i] = true
            candidates += 1
        }
        if candidates > 0 {
            if let failure = await auctions("get_open_backorder_auctions", [:], orders: orders, pending: &pending, slicer: &slicer, report: \.openReport) {
                slicer.flush()
                return failure.refreshResult
            }
            var from = Double.infinity
            for i in 0..<n where pending[i] { from = min(from, orders.earliest(at: i).timeIntervalSince1970) }
            if from < .infinity {
                // The end reaches well past today: no auction closes in the future, so the only effect is that a
                // provider whose clock or time zone runs ahead of ours (or a sandbox moved ahead) is not cut off.
                let range = ["startDate": Self.day(Date(timeIntervalSince1970: from).addingTimeInterval(-2 * 86_400)),
                             "endDate": Self.day(now.addingTimeInterval(30 * 86_400))]
                if let failure = await auctions("get_closed_backorder_auctions", range, orders: orders, pending: &pending, slicer: &slicer, report: \.closedReport) {
                    slicer.flush()
                    return failure.refreshResult
                }
            }
        }

        // Every order no auction answered for: a candidate still pending, or one the request list settled.
        for i in 0..<n where pending[i] || !mayBeInAuction(i) {
            if let request = listed(i) {
                slicer.add(i, request.report(now: now))
            } else {
                slicer.add(i, FateReport(
                    fate: .unknown,
                    detail: "not on Dynadot's backorder request list nor in its backorder auctions: caught into the account, "
                        + "or deleted outside bo-batch (Dynadot's answers cannot tell which; see the account's domains)"))
            }
        }
        slicer.flush()
        return .fates([:])
    }

    /// Reads one auction list for the orders still `pending` and hands each one's latest auction (by end time;
    /// of equal ones the last listed, as before) to `slicer`, clearing `pending`. Two passes over the one answer:
    /// the first checks it whole and chooses, the second builds only the chosen reports.
    private func auctions(
        _ command: String, _ parameters: [String: String], orders: OrderSet, pending: inout [Bool], slicer: inout FateSlicer,
        report: KeyPath<DynadotAuction, FateReport>
    ) async -> ListingFailure? {
        let body: DynadotListingBody
        switch await fetchListing(command, parameters) {
        case .success(let answer): body = answer
        case .failure(let failure): return failure
        }
        var chosen = [Int32](repeating: -1, count: orders.count)
        var latest = [Double](repeating: 0, count: orders.count)
        var ordinal: Int32 = 0
        if let failure = parseListing(command, body, record: "Auction", visit: { element in
            defer { ordinal += 1 }
            guard let name = element.child("Domain")?.text, let index = orders.index(of: Self.normalized(name)), pending[index] else { return }
            let ends = element.child("EndTimestamp").flatMap { $0.text.isEmpty ? nil : Self.date(milliseconds: $0.text) } ?? .distantPast
            if chosen[index] < 0 || ends.timeIntervalSince1970 >= latest[index] {
                chosen[index] = ordinal
                latest[index] = ends.timeIntervalSince1970
            }
        }) {
            return failure
        }
        ordinal = 0
        _ = parseListing(command, body, record: "Auction") { element in
            defer { ordinal += 1 }
            guard let name = element.child("Domain")?.text, let index = orders.index(of: Self.normalized(name)),
                  pending[index], chosen[index] == ordinal else { return }
            pending[index] = false
            slicer.add(index, DynadotAuction(element)[keyPath: report])
        }
        return nil
    }

    // MARK: cancel

    public func cancel(_ orders: [PlacedOrder]) async -> CancelResult {
        let domains = orders.map(\.domain)
        guard !domains.isEmpty else { return .settled([:]) }
        let first = await delete(domains)
        guard case .domainError(let text) = first else { return first.result(for: domains) }
        if domains.count == 1 { return .settled([domains[0]: DynadotClassifier.deleteVerdict(text)]) }

        // One status for a batch: which names it removed before it stopped is not said. The list says, for each
        // name, whether the account still holds it and whether it can still be deleted.
        var listed: [DomainName: DynadotListedRequest] = [:]
        let asked = Dictionary(domains.map { ($0.ascii, $0) }, uniquingKeysWith: { a, _ in a })
        let today = now()
        let earliest = orders.lazy.map { min($0.placedAt, $0.dropTime ?? $0.placedAt) }.min()!
        let latest = max(today, orders.lazy.map { max($0.placedAt, $0.dropTime ?? $0.placedAt) }.max()!)
        let listFailure = await listing(
            "backorder_request_list",
            ["startDate": Self.day(earliest.addingTimeInterval(-2 * 86_400)), "endDate": Self.day(latest.addingTimeInterval(400 * 86_400))],
            record: "BackorderRequest"
        ) { entry in
            guard let name = entry.child("DomainName")?.text ?? entry.child("Domain")?.text,
                  let domain = asked[Self.normalized(name)] else { return }
            listed[domain] = DynadotListedRequest(
                status: entry.child("BackorderRequestStatus")?.text ?? "",
                cutoff: entry.child("CutoffTime").flatMap { Self.date(milliseconds: $0.text) })
        }
        if let listFailure {
            return .maybeProcessed(reason: "Dynadot refused the batch delete (\(text)), and the list that tells which names it removed failed: \(listFailure.reason)")
        }
        var verdicts: [DomainName: CancelVerdict] = [:]
        var remainder: [DomainName] = []
        for domain in domains {
            guard let request = listed[domain] else {
                verdicts[domain] = .cancelled(message: "not on the Dynadot backorder request list (any more)")
                continue
            }
            if request.deletable(now: today) {
                remainder.append(domain)
            } else {
                verdicts[domain] = .refused(message: "Dynadot: \(text); the request is \(request.status.isEmpty ? "without a status" : request.status)"
                    + (request.cutoff.map { ", cutoff \(Self.timeText($0))" } ?? ""))
            }
        }
        guard !remainder.isEmpty else { return .settled(verdicts) }
        // The names the list proves deletable, without the ones that stopped the batch: one more delete, like the
        // lane's split of a failed create batch.
        let second = await delete(remainder)
        switch second {
        case .removed:
            for domain in remainder { verdicts[domain] = .cancelled(message: "removed from the backorder request list") }
            return .settled(verdicts)
        case .domainError(let text) where remainder.count == 1:
            verdicts[remainder[0]] = DynadotClassifier.deleteVerdict(text)
            return .settled(verdicts)
        default:
            // Unclear for the remainder: the whole call is settled by lookup (absent: cancelled; held: sent again,
            // when the names refused above get their verdict from the list again).
            if case .other(let result) = second, case .refused = result {
                return .maybeProcessed(reason: "Dynadot refused the batch delete (\(text)); deleting the rest was refused too")
            }
            return .maybeProcessed(reason: "Dynadot refused the batch delete (\(text)); deleting the rest got no clear answer")
        }
    }

    /// What one `delete_backorder_request` did.
    enum DeleteOutcome {
        case removed
        /// Dynadot's error about the names (not found, past the cutoff): the text as it was given.
        case domainError(String)
        /// Anything else, as the call's result.
        case other(CancelResult)

        func result(for domains: [DomainName]) -> CancelResult {
            switch self {
            case .removed:
                .settled(Dictionary(domains.map { ($0, CancelVerdict.cancelled(message: "removed from the backorder request list")) },
                                    uniquingKeysWith: { a, _ in a }))
            case .domainError(let text): .maybeProcessed(reason: "Dynadot: \(text)")
            case .other(let result): result
            }
        }
    }

    func delete(_ domains: [DomainName]) async -> DeleteOutcome {
        // Not idempotent for the transport: a lost answer must reach the engine as "maybe processed" (settled by
        // lookup), never be resent behind its back.
        let request = makeRequest(
            command: "delete_backorder_request", ["domain": domains.map(\.ascii).joined(separator: ",")], idempotent: false)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            switch error.kind {
            case .neverSent: return .other(.refused(reason: "Dynadot was not reached: \(error.message)", retryAfterSeconds: nil))
            case .maybeProcessed: return .other(.maybeProcessed(reason: "no answer from Dynadot: \(error.message)"))
            case .bodyTooLarge: return .other(.maybeProcessed(reason: "Dynadot's answer was too large to read: \(error.message)"))
            }
        }
        let reading = HTTPStatusReading(response, now: now())
        switch reading.kind {
        case .success:
            break
        case .refused(let wait):
            return .other(.refused(reason: reading.answered(by: "Dynadot"), retryAfterSeconds: wait))
        case .endpointProblem where [401, 403].contains(response.status):
            return .other(.halt(
                reason: "Dynadot refused access (HTTP \(response.status))",
                fix: "check DYNADOT_API_KEY and that this machine's IP address is on the API whitelist (Dynadot: Tools → API)"))
        case .endpointProblem, .serverError, .other:
            return .other(.maybeProcessed(reason: reading.answered(by: "Dynadot")))
        }
        let answer: DynadotAnswer
        do {
            (answer, _) = try DynadotAnswer.parse(response.body)
        } catch {
            return .other(.maybeProcessed(reason: "Dynadot's answer is not readable XML (\(error.message))"))
        }
        if answer.succeeded { return .removed }
        let text = answer.error ?? answer.status ?? "error without a message"
        if let halt = DynadotClassifier.accountHalt(text) { return .other(.halt(reason: halt.reason, fix: halt.fix)) }
        if DynadotClassifier.isBusy(text) { return .other(.refused(reason: "Dynadot is busy: \(text)", retryAfterSeconds: nil)) }
        return .domainError(text)
    }

    // MARK: Listings

    /// Why a whole-account listing gave nothing usable.
    enum ListingFailure: Error {
        case refused(String, Double?)
        case unavailable(String)
        case halt(String, fix: String)

        var reason: String {
            switch self {
            case .refused(let reason, _), .unavailable(let reason), .halt(let reason, _): reason
            }
        }

        var refreshResult: RefreshResult {
            switch self {
            case .refused(let reason, let wait): .refused(reason: reason, retryAfterSeconds: wait)
            case .unavailable(let reason): .unavailable(reason: reason)
            case .halt(let reason, let fix): .halt(reason: reason, fix: fix)
            }
        }
    }

    /// Sends one listing command and hands each `record` element to `visit` while the answer is read; nil when
    /// the answer was a complete success. What `visit` collected counts only then.
    func listing(
        _ command: String, _ parameters: [String: String], record: String, visit: (XMLElement) -> Void
    ) async -> ListingFailure? {
        switch await fetchListing(command, parameters) {
        case .success(let body): parseListing(command, body, record: record, visit: visit)
        case .failure(let failure): failure
        }
    }

    /// Sends one listing command: the answer when its HTTP status says success. The body goes to an unlinked
    /// temporary file as it arrives (a 100,000-request list is 17 MB), so it is never in memory whole; without a
    /// file (none could be made, or a transport that keeps bodies) it is kept in memory as before.
    func fetchListing(_ command: String, _ parameters: [String: String]) async -> Result<DynadotListingBody, ListingFailure> {
        var request = makeRequest(command: command, parameters, idempotent: true, maxBytes: Self.listingMaxBytes)
        let file = DynadotListingBody.temporaryFile()
        request.bodyFile = file
        var response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            if let file { close(file) }
            if error.kind == .neverSent { return .failure(.refused("\(command): Dynadot was not reached: \(error.message)", nil)) }
            return .failure(.unavailable("\(command): \(error.message)"))
        }
        let body = DynadotListingBody(memory: response.body, file: file)
        if response.body.isEmpty, !(200..<300).contains(response.status) {
            response.body = body.head()  // what a refusal or an error page says, for the messages below
        }
        let reading = HTTPStatusReading(response, now: now())
        switch reading.kind {
        case .success:
            return .success(body)
        case .refused(let wait):
            return .failure(.refused("\(command): \(reading.answered(by: "Dynadot"))", wait))
        case .endpointProblem where [401, 403].contains(response.status):
            return .failure(.halt("Dynadot refused access (HTTP \(response.status))",
                                  fix: "check DYNADOT_API_KEY and that this machine's IP address is on the API whitelist (Dynadot: Tools → API)"))
        case .endpointProblem, .serverError, .other:
            return .failure(.unavailable("\(command): \(reading.answered(by: "Dynadot"))"))
        }
    }

    /// Reads a listing's answer, handing each `record` element to `visit`; nil when it is a complete success.
    func parseListing(_ command: String, _ body: DynadotListingBody, record: String, visit: (XMLElement) -> Void) -> ListingFailure? {
        let answer: DynadotAnswer
        do {
            if let file = body.file, body.memory.isEmpty {
                answer = try DynadotAnswer.stream(file: file, maxBytes: Self.listingMaxBytes, records: [record], visit: visit)
            } else {
                answer = try DynadotAnswer.stream(body.memory, maxBytes: Self.listingMaxBytes, records: [record], visit: visit)
            }
        } catch {
            return .unavailable("\(command) answer is not readable XML: \(error.message)")
        }
        guard answer.succeeded else {
            let text = answer.error ?? answer.status ?? "no error text"
            if let halt = DynadotClassifier.accountHalt(text) { return .halt(halt.reason, fix: halt.fix) }
            if DynadotClassifier.isBusy(text) { return .refused("\(command): Dynadot is busy: \(text)", nil) }
            return .unavailable("\(command) failed: \(text)")
        }
        return nil
    }

    /// The name as `DomainName.ascii` spells it. Dynadot writes lower-case ASCII names, which pass unchanged
    /// (a 100,000-entry list must not cost Foundation's case folding and trimming per entry).
    static func normalized(_ name: String) -> String {
        let utf8 = name.utf8
        let plain = utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E }
        if plain, utf8.first != 0x2E, utf8.last != 0x2E { return name }
        return name.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ". "))
    }

    static func date(milliseconds text: String) -> Date? {
        Int64(text.trimmingCharacters(in: .whitespaces)).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// `yyyy-mm-dd` in UTC, as the list commands take their range.
    static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }

    /// "2026-12-02T13:45:00Z", built by hand: a formatter per entry of a 100,000-entry list is most of its cost.
    static func timeText(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}

/// A listing's answer: in an unlinked temporary file (closed, and so gone, with this), or in memory when no
/// file could be used.
final class DynadotListingBody {
    let memory: [UInt8]
    let file: Int32?

    init(memory: [UInt8], file: Int32?) {
        self.memory = memory
        self.file = file
    }

    deinit {
        if let file { close(file) }
    }

    /// A new file for an answer, already unlinked (nothing stays on disk, even after a kill -9); nil when none
    /// can be made (the answer is then kept in memory).
    static func temporaryFile() -> Int32? {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/bo-batch-listing-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    /// The first 64 KiB of a file answer (for the message of a refusal or error page).
    func head() -> [UInt8] {
        guard let file else { return memory }
        var bytes = [UInt8](repeating: 0, count: 64 << 10)
        let got = bytes.withUnsafeMutableBytes { pread(file, $0.baseAddress, $0.count, 0) }
        return Array(bytes.prefix(max(0, got)))
    }
}

/// The distinct status words of a request list, each kept once, and an order's word as a small code (0: not
/// listed), so a 100,000-request list costs two bytes per asked order rather than a string.
struct StatusWords {
    private var words: [String] = []
    private var fates: [Fate?] = []
    private var codes: [String: UInt16] = [:]

    mutating func code(_ word: String) -> UInt16 {
        if let known = codes[word] { return known }
        // More distinct words than a code holds is not a real list; the rest read as "(no status)": unknown.
        guard words.count < Int(UInt16.max) - 1 else { return code("") }
        words.append(word)
        fates.append(DynadotListedRequest.fate(of: word))
        codes[word] = UInt16(words.count)
        return UInt16(words.count)
    }

    func word(_ code: UInt16) -> String { words[Int(code) - 1] }
    func fate(_ code: UInt16) -> Fate? { fates[Int(code) - 1] }
}

/// One request of `backorder_request_list`, as refresh and cancel read it.
struct DynadotListedRequest: Equatable {
    var status: String
    var cutoff: Date?

    /// What a status word of the request list means. The seed shows only `Active`; the others are read by the
    /// word families Dynadot's control panel uses, and anything else is `unknown` (never a guess).
    static func fate(of status: String) -> Fate? {
        // The words the answers use, without a search (this runs for every entry of a whole-account list).
        switch status {
        case "Active": return .waiting
        case "In Auction": return .inAuction
        case "Won": return .won
        case "Lost": return .lost
        case "Redeemed": return .redeemed
        default: break
        }
        let lower = status.lowercased()
        func has(_ words: String...) -> Bool { words.contains(where: lower.contains) }
        if has("won", "success", "caught", "complete", "registered") { return .won }
        if has("lost", "fail", "taken by", "missed") { return .lost }
        if has("redeem", "renew") { return .redeemed }
        if has("cancel", "delet", "remov") { return .cancelled }
        if has("auction") { return .inAuction }
        if has("active", "pending", "waiting", "open", "processing", "queued") { return .waiting }
        return nil
    }

    func report(now: Date) -> FateReport {
        let words = status.isEmpty ? "(no status)" : status
        guard let fate = Self.fate(of: status) else {
            return FateReport(fate: .unknown, detail: "Dynadot's backorder request status \(words) is not one bo-batch knows", endsAt: cutoff)
        }
        var detail = "backorder request \(words)"
        if let cutoff { detail += ", cutoff \(DynadotProvider.timeText(cutoff))" }
        if fate == .waiting, let cutoff, cutoff <= now { detail += " (passed: Dynadot has not processed it yet)" }
        if fate == .inAuction { detail += " (not among the open backorder auctions)" }
        return FateReport(fate: fate, detail: detail, endsAt: fate == .waiting || fate == .inAuction ? cutoff : nil)
    }

    /// Whether a delete can still remove it: waiting, and before its cutoff.
    func deletable(now: Date) -> Bool {
        Self.fate(of: status) == .waiting && (cutoff.map { $0 > now } ?? true)
    }
}

/// One `<Auction>` of `get_open_backorder_auctions` or `get_closed_backorder_auctions`.
struct DynadotAuction: Equatable {
    var wonStatus: String?
    var status: String?
    var price: String?
    var yourHighBid: String?
    var currency: String?
    var bids: String?
    var endTime: String?
    var endsAt: Date?

    init(_ element: XMLElement) {
        func text(_ name: String) -> String? {
            guard let value = element.child(name)?.text, !value.isEmpty else { return nil }
            return value
        }
        wonStatus = text("AuctionWonStatus")
        status = text("AuctionStatus")
        price = text("BidPrice")
        yourHighBid = text("YourHighBid")
        currency = text("BidPriceCurrency")?.uppercased()
        bids = text("Bids")
        endTime = text("EndTime")
        endsAt = text("EndTimestamp").flatMap { DynadotProvider.date(milliseconds: $0) }
    }

    var openReport: FateReport {
        var detail = "backorder auction open"
        if let bids { detail += ", \(bids) bids" }
        if let endTime { detail += ", ends \(endTime)" }
        return FateReport(fate: .inAuction, detail: detail, price: price, currency: currency, endsAt: endsAt)
    }

    var closedReport: FateReport {
        let won = wonStatus?.lowercased() ?? ""
        var detail = "backorder auction closed"
        if let status { detail += " (\(status))" }
        detail += ", AuctionWonStatus \(wonStatus ?? "missing")"
        if won == "won" || won == "yes" {
            return FateReport(fate: .won, detail: detail, price: price ?? yourHighBid, currency: currency)
        }
        if won.contains("lost") || won.contains("lose") || won == "no" {
            return FateReport(fate: .lost, detail: detail, price: price, currency: currency)
        }
        return FateReport(fate: .unknown, detail: detail + ": not one bo-batch knows", price: price, currency: currency)
    }
}

extension DynadotClassifier {
    /// "Come back later": nothing was done. Checked before any reading of the text as being about a name, since
    /// Dynadot's one-request-at-a-time answer says "another request is being processed".
    static func isBusy(_ text: String) -> Bool {
        let lower = text.lowercased()
        return ["system_busy", "system busy", "another request", "too many requests", "try again later", "rate limit"]
            .contains(where: lower.contains)
    }

    /// A delete's error about its one name: "not on the list" means already gone (cancelled, success); anything
    /// else (past the cutoff, being processed) is Dynadot's refusal in its own words.
    static func deleteVerdict(_ text: String) -> CancelVerdict {
        let lower = text.lowercased()
        let gone = ["not on your backorder", "not in your backorder", "could not find", "not found", "does not exist", "no backorder"]
        if gone.contains(where: lower.contains) {
            return .cancelled(message: "already gone: Dynadot says \(text)")
        }
        return .refused(message: "Dynadot: \(text)")
    }
}
