@testable import BoBatch
import Foundation
import Testing

/// What `reclaim` reads from the ledger: the domains a run won at any provider, with their input attributes, and
/// when the run was last refreshed.
@Suite struct LedgerReclaimTests {
    let run = "catches"
    let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }

    @Test func wonDomainsAreTheRunsCatchesInInputOrderWithTheirEmailOnceEach() throws {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, ["z.com", "a.com", "m.com", "q.com"].map {
            IngestEntry(domain: domain($0), input: $0.uppercased(), source: "l.csv:1", attributes: DomainAttributes(email: $0 == "a.com" ? "me@a.com" : nil))
        })
        try ledger.preparePairs(run: run, providers: [.dynadot, .yay], rememberSince: .distantPast, now: t0)
        #expect(try ledger.wonDomains(run: run).isEmpty)
        #expect(try ledger.lastFateCheck(run: run) == nil)
        for provider in [ProviderID.dynadot, .yay] {
            try ledger.record(run: run, provider: provider, ["z.com", "a.com", "m.com", "q.com"].map {
                PairUpdate(domain: domain($0), state: .accepted, code: .ok, message: "ok")
            }, now: t0)
        }
        func rows(_ provider: ProviderID) throws -> [String: PlacedOrderRow] {
            Dictionary(uniqueKeysWithValues: try ledger.placedOrders(run: run, provider: provider, afterID: 0, limit: 10, includeFinal: true).map { ($0.order.domain.ascii, $0) })
        }
        let dynadot = try rows(.dynadot), yay = try rows(.yay)
        try ledger.recordFates(run: run, provider: .dynadot, [
            (dynadot["a.com"]!, FateReport(fate: .won, detail: "won")), (dynadot["m.com"]!, FateReport(fate: .lost, detail: "lost")),
            (dynadot["q.com"]!, FateReport(fate: .inAuction, detail: "open")),
        ], at: t0.addingTimeInterval(60))
        try ledger.recordFates(run: run, provider: .yay, [
            (yay["a.com"]!, FateReport(fate: .won, detail: "won")), (yay["z.com"]!, FateReport(fate: .won, detail: "won")),
        ], at: t0.addingTimeInterval(120))

        let won = try ledger.wonDomains(run: run)
        #expect(won.map(\.domain.ascii) == ["z.com", "a.com"])
        #expect(won.map(\.wonAt) == [[.yay], [.dynadot, .yay]])
        #expect(won[1].attributes.email == "me@a.com")
        #expect(won[1].input == "A.COM")
        #expect(try ledger.lastFateCheck(run: run) == t0.addingTimeInterval(120))
        #expect(try ledger.wonDomains(run: "no-such-run").isEmpty)

        // DNSPod places no backorder: a fate recorded on its pair catches nothing.
        try ledger.preparePairs(run: run, providers: [.dnspod], rememberSince: .distantPast, now: t0)
        try ledger.record(run: run, provider: .dnspod, [PairUpdate(domain: domain("m.com"), state: .accepted, code: .ok, message: "ok")], now: t0)
        let m = try #require(try ledger.placedOrders(run: run, provider: .dnspod, afterID: 0, limit: 10).first)
        try ledger.recordFates(run: run, provider: .dnspod, [(m, FateReport(fate: .won, detail: "?"))])
        #expect(try ledger.wonDomains(run: run).map(\.domain.ascii) == ["z.com", "a.com"])
    }
}
