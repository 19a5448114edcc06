@testable import BoBatch
import BoBatchHTTP
import Foundation
import Testing

/// Dynadot's follow-up calls read from seed-shaped answers (seed 002: `backorder_request_list`,
/// `get_open_backorder_auctions`, `get_closed_backorder_auctions`, `delete_backorder_request`). The sandbox
/// round trips, through the real libcurl, are in DynadotSandboxFollowUpTests.
@Suite struct DynadotFollowUpTests {
    static let now = Date(timeIntervalSince1970: 1_761_523_200)  // 2025-10-27
    let a = DomainName(validatedASCII: "a.com")
    let b = DomainName(validatedASCII: "b.net")
    let c = DomainName(validatedASCII: "c.org")

    func provider(_ transport: ScriptedTransport) -> DynadotProvider {
        DynadotProvider(config: DynadotConfig(apiKey: "k3y", endpoint: "https://api.example/api3.xml"), transport: transport,
                        now: { Self.now })
    }

    func order(_ domain: DomainName, drop: Date? = nil) -> PlacedOrder {
        PlacedOrder(domain: domain, dropTime: drop, placedAt: Self.now.addingTimeInterval(-3 * 86_400))
    }

    static func list(_ rows: [(String, Int64, String)], domainTag: String = "DomainName") -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <BackorderRequestListResponse><BackorderRequestListHeader><SuccessCode>0</SuccessCode><Status>success</Status></BackorderRequestListHeader>
            <BackorderRequestListContent><BackorderRequestList>
            """
        for (domain, cutoff, status) in rows {
            xml += "<BackorderRequest><\(domainTag)>\(domain)</\(domainTag)><CutoffTime>\(cutoff)</CutoffTime><BackorderRequestStatus>\(status)</BackorderRequestStatus></BackorderRequest>\n"
        }
        return xml + "</BackorderRequestList></BackorderRequestListContent></BackorderRequestListResponse>"
    }

    /// The seed's open-auctions answer shape.
    static func openAuctions(_ rows: [(String, String, Int64)]) -> String {
        var xml = "<GetOpenBackorderAuctionsResponse><GetOpenBackorderAuctionsHeader><SuccessCode>0</SuccessCode><Status>success</Status></GetOpenBackorderAuctionsHeader><GetOpenBackorderAuctionsContent>"
        for (domain, price, end) in rows {
            xml += "<Auction><AuctionId>0</AuctionId><Domain>\(domain)</Domain><BidPrice>\(price)</BidPrice><BidPriceCurrency>USD</BidPriceCurrency><Bids>3</Bids><EndTime>2015/04/28 05:46 UTC</EndTime><EndTimestamp>\(end)</EndTimestamp></Auction>"
        }
        return xml + "</GetOpenBackorderAuctionsContent></GetOpenBackorderAuctionsResponse>"
    }

    /// The seed's closed-auctions answer shape.
    static func closedAuctions(_ rows: [(String, String, String)]) -> String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><GetClosedBackorderAuctionsResponse><GetClosedBackorderAuctionsHeader><SuccessCode>0</SuccessCode><Status>success</Status></GetClosedBackorderAuctionsHeader><GetClosedBackorderAuctionsContent>"
        for (domain, won, price) in rows {
            xml += "<Auction><AuctionWonStatus>\(won)</AuctionWonStatus><YourHighBid>\(price)</YourHighBid><YourProxyBid>1000.0</YourProxyBid><AuctionId>2</AuctionId><Domain>\(domain)</Domain><BidPrice>\(price)</BidPrice><BidPriceCurrency>USD</BidPriceCurrency><Bids>1</Bids><EndTime>2022/04/04 02:20:34 PST</EndTime><EndTimestamp>1649064034033</EndTimestamp></Auction>"
        }
        return xml + "</GetClosedBackorderAuctionsContent></GetClosedBackorderAuctionsResponse>"
    }

    static func delete(code: String = "0", error: String? = nil) -> String {
        "<DeleteBackorderRequestResponse><DeleteBackorderRequestHeader><SuccessCode>\(code)</SuccessCode><Status>\(error == nil ? "success" : "error")</Status>"
            + (error.map { "<Error>\($0)</Error>" } ?? "") + "</DeleteBackorderRequestHeader></DeleteBackorderRequestResponse>"
    }

    /// Answers each command from `answers`, recording the order.
    static func scripted(_ answers: [String: String]) -> ScriptedTransport {
        ScriptedTransport { request in
            let command = request.queryFields["command"] ?? ""
            return HTTPResponse(status: 200, body: Array((answers[command] ?? "<Response><ResponseHeader><ResponseCode>-1</ResponseCode><Error>unexpected \(command)</Error></ResponseHeader></Response>").utf8))
        }
    }

    @Test func followUpOffersOneListingAndCancelsOfAHundred() {
        let support = provider(ScriptedTransport(body: "")).followUp
        #expect(support.refreshBatch == Int.max)
        #expect(support.cancelBatch == 100)
    }

    @Test func activeRequestsAreWaitingWithTheirCutoffAndNoAuctionCallIsMade() async throws {
        let cutoff: Int64 = 1_761_609_600_000
        let transport = Self.scripted(["backorder_request_list": Self.list([("A.com", cutoff, "Active"), ("b.net", cutoff, "Active"), ("other.org", cutoff, "Active")])])
        let result = await provider(transport).refresh([order(a), order(b)], now: Self.now)
        guard case .fates(let reports) = result else { Issue.record("\(result)"); return }
        #expect(reports.count == 2)
        #expect(reports[a]?.fate == .waiting)
        #expect(reports[a]?.endsAt == Date(timeIntervalSince1970: Double(cutoff) / 1000))
        #expect(reports[a]?.detail.contains("Active") == true)
        #expect(transport.requests.map { $0.queryFields["command"] } == ["backorder_request_list"])
        let query = transport.requests[0].queryFields
        #expect(query["startDate"] == "2025-10-22")
        #expect(query["endDate"]?.count == 10)
        #expect(transport.requests[0].idempotent)
    }

    @Test func requestStatusesMapToFates() async {
        let d = DomainName(validatedASCII: "d.com"), e = DomainName(validatedASCII: "e.com")
        let transport = Self.scripted(["backorder_request_list": Self.list([
            ("a.com", 1, "Won"), ("b.net", 1, "Lost"), ("c.org", 1, "Redeemed"), ("d.com", 1, "Something New"),
            ("e.com", 1_700_000_000_000, "Active"),
        ], domainTag: "Domain")])
        let result = await provider(transport).refresh([order(a), order(b), order(c), order(d), order(e)], now: Self.now)
        guard case .fates(let reports) = result else { Issue.record("\(result)"); return }
        #expect(reports[a]?.fate == .won)
        #expect(reports[b]?.fate == .lost)
        #expect(reports[c]?.fate == .redeemed)
        #expect(reports[d]?.fate == .unknown)
        #expect(reports[d]?.detail.contains("Something New") == true)
        // Past its cutoff but still Active: Dynadot has not acted yet.
        #expect(reports[e]?.fate == .waiting)
        #expect(reports[e]?.detail.contains("not processed") == true)
        #expect(transport.requests.count == 1)
    }

    @Test func ordersThatLeftTheListAreLookedForInTheAuctions() async {
        let transport = Self.scripted([
            "backorder_request_list": Self.list([("c.org", 1_761_609_600_000, "In Auction")]),
            "get_open_backorder_auctions": Self.openAuctions([("c.org", "63.99", 1_430_199_960_354), ("stranger.com", "1.0", 1)]),
            "get_closed_backorder_auctions": Self.closedAuctions([("a.com", "won", "89.99"), ("b.net", "lost", "28.99")]),
        ])
        let gone = DomainName(validatedASCII: "gone.com")
        let result = await provider(transport).refresh([order(a), order(b), order(c), order(gone)], now: Self.now)
        guard case .fates(let reports) = result else { Issue.record("\(result)"); return }
        #expect(reports[a] == FateReport(fate: .won, detail: "backorder auction closed, AuctionWonStatus won", price: "89.99", currency: "USD"))
        #expect(reports[b]?.fate == .lost)
        #expect(reports[c]?.fate == .inAuction)
        #expect(reports[c]?.price == "63.99")
        #expect(reports[c]?.currency == "USD")
        #expect(reports[c]?.endsAt == Date(timeIntervalSince1970: 1_430_199_960.354))
        #expect(reports[gone]?.fate == .unknown)
        #expect(reports[gone]?.detail.contains("not on Dynadot's backorder request list") == true)
        #expect(transport.requests.map { $0.queryFields["command"] } == ["backorder_request_list", "get_open_backorder_auctions", "get_closed_backorder_auctions"])
        let closed = transport.requests[2].queryFields
        #expect(closed["startDate"] == "2025-10-22")
        #expect(closed["endDate"] == "2025-11-26", "30 days past now: a provider (or sandbox) clock ahead of ours is not cut off")
    }

    @Test func aFailedListingKeepsTheFatesAndBusyIsARefusal() async {
        let busy = "<BackorderRequestListResponse><BackorderRequestListHeader><SuccessCode>-1</SuccessCode><Status>error</Status><Error>another request is being processed</Error></BackorderRequestListHeader></BackorderRequestListResponse>"
        guard case .refused = await provider(ScriptedTransport(body: busy)).refresh([order(a)], now: Self.now) else {
            Issue.record("busy must be a refusal"); return
        }
        guard case .unavailable = await provider(ScriptedTransport(body: "<BackorderRequestListResponse><Header>")).refresh([order(a)], now: Self.now) else {
            Issue.record("a cut answer must not be read"); return
        }
        let key = "<Response><ResponseHeader><ResponseCode>-1</ResponseCode><Error>invalid key</Error></ResponseHeader></Response>"
        guard case .halt = await provider(ScriptedTransport(body: key)).refresh([order(a)], now: Self.now) else {
            Issue.record("a bad key halts"); return
        }
        // The list worked, the auctions did not: nothing is guessed for anyone.
        let transport = Self.scripted(["backorder_request_list": Self.list([("b.net", 1, "Active")]), "get_open_backorder_auctions": "garbage"])
        guard case .unavailable = await provider(transport).refresh([order(a), order(b)], now: Self.now) else {
            Issue.record("a failed auction listing is unavailable"); return
        }
    }

    @Test func cancelOfABatchIsOneDeleteOfUpToAHundred() async {
        let transport = Self.scripted(["delete_backorder_request": Self.delete()])
        let result = await provider(transport).cancel([order(a), order(b)])
        #expect(result == .settled([a: .cancelled(message: "removed from the backorder request list"), b: .cancelled(message: "removed from the backorder request list")]))
        #expect(transport.requests.count == 1)
        #expect(transport.requests[0].url.contains("command=delete_backorder_request"))
        #expect(transport.requests[0].url.contains("domain=a.com,b.net"))
        #expect(transport.requests[0].idempotent == false)
    }

    @Test func oneNameNotOnTheListIsAlreadyCancelledAndPastTheCutoffIsRefused() async {
        let gone = Self.scripted(["delete_backorder_request": Self.delete(code: "-1", error: "a.com is not on your backorder request list")])
        guard case .settled(let verdicts) = await provider(gone).cancel([order(a)]), case .cancelled = verdicts[a] else {
            Issue.record("not on the list is success"); return
        }
        let late = Self.scripted(["delete_backorder_request": Self.delete(code: "-1", error: "cannot delete a.com, its backorder request is past the cutoff time")])
        #expect(await provider(late).cancel([order(a)]) == .settled([a: .refused(message: "Dynadot: cannot delete a.com, its backorder request is past the cutoff time")]))
        let busy = Self.scripted(["delete_backorder_request": Self.delete(code: "-1", error: "another request is being processed")])
        guard case .refused = await provider(busy).cancel([order(a)]) else { Issue.record("busy is a refusal"); return }
        let lost = ScriptedTransport { _ throws(TransportError) in throw TransportError(kind: .maybeProcessed, message: "connection reset", code: 56) }
        guard case .maybeProcessed = await provider(lost).cancel([order(a)]) else { Issue.record("a lost answer may have cancelled"); return }
        let server = ScriptedTransport(status: 502, body: "<html>bad gateway</html>")
        guard case .maybeProcessed = await provider(server).cancel([order(a)]) else { Issue.record("a 502 may have cancelled"); return }
    }

    @Test func aBatchErrorIsSettledByTheListAndTheRestDeletedOnce() async {
        // a.com is gone, b.net is past its cutoff, c.org can still be deleted.
        let deletes = DynadotTestBox(0)
        let transport = ScriptedTransport { request in
            let fields = request.queryFields
            switch fields["command"] {
            case "delete_backorder_request":
                let n = deletes.withLock { $0 += 1; return $0 }
                let body = n == 1 ? Self.delete(code: "-1", error: "a.com is not on your backorder request list") : Self.delete()
                if n == 2 { #expect(fields["domain"] == "c.org") }
                return HTTPResponse(status: 200, body: Array(body.utf8))
            default:
                return HTTPResponse(status: 200, body: Array(Self.list([("b.net", 1_700_000_000_000, "Active"), ("c.org", 1_900_000_000_000, "Active")]).utf8))
            }
        }
        let result = await provider(transport).cancel([order(a), order(b), order(c)])
        guard case .settled(let verdicts) = result else { Issue.record("\(result)"); return }
        guard case .cancelled = verdicts[a], case .refused(let why) = verdicts[b], case .cancelled = verdicts[c] else {
            Issue.record("\(verdicts)"); return
        }
        #expect(why.contains("a.com is not on your backorder request list"))
        #expect(why.contains("cutoff"))
        #expect(transport.requests.map { $0.queryFields["command"] } == ["delete_backorder_request", "backorder_request_list", "delete_backorder_request"])
    }
}

/// A tiny lock for test closures.
final class DynadotTestBox<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
}
