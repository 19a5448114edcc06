@testable import BoBatch
import Foundation
import Testing

/// The ledger's second dimension (issue 11): what became of placed orders, with every change kept.
@Suite struct LedgerFateTests {
    let run = "fates"
    let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }

    /// a.com and b.com placed at Dynadot, c.com rejected, d.com never sent.
    func makeLedger() throws -> Ledger {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, ["a.com", "b.com", "c.com", "d.com"].map {
            IngestEntry(domain: domain($0), input: $0, source: "l.txt:1", attributes: DomainAttributes(dropTime: t0.addingTimeInterval(86_400)))
        })
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast, now: t0)
        try ledger.record(run: run, provider: .dynadot, [
            PairUpdate(domain: domain("a.com"), state: .accepted, code: .ok, message: "ok"),
            PairUpdate(domain: domain("b.com"), state: .already, code: .already, message: "had it", reference: "r-b"),
            PairUpdate(domain: domain("c.com"), state: .rejected, code: .rejected, message: "no"),
        ], now: t0)
        return ledger
    }

    @Test func onlyPlacedOrdersWhoseFateCanChangeAreAskedAbout() throws {
        let ledger = try makeLedger()
        let rows = try ledger.placedOrders(run: run, provider: .dynadot, afterID: 0, limit: 10)
        #expect(rows.map(\.order.domain.ascii) == ["a.com", "b.com"])
        #expect(rows.map(\.fate) == [nil, nil])
        #expect(rows[1].order.reference == "r-b")
        #expect(rows[0].order.placedAt == t0)
        #expect(rows[0].order.dropTime == t0.addingTimeInterval(86_400))

        try ledger.recordFates(run: run, provider: .dynadot, [(rows[0], FateReport(fate: .won, detail: "caught", price: "79.00", currency: "USD"))], at: t0)
        try ledger.recordFates(run: run, provider: .dynadot, [(rows[1], FateReport(fate: .inAuction, detail: "open"))], at: t0)
        #expect(try ledger.placedOrders(run: run, provider: .dynadot, afterID: 0, limit: 10).map(\.order.domain.ascii) == ["b.com"])
        #expect(try ledger.placedOrders(run: run, provider: .dynadot, afterID: 0, limit: 10, includeFinal: true).map(\.fate) == [.won, .inAuction])
        #expect(try ledger.placedOrders(run: run, provider: .dynadot, afterID: rows[0].id, limit: 10, includeFinal: true).count == 1)
    }

    @Test func everyChangeIsKeptWithItsTimeAndAnUnchangedAnswerOnlyNotesTheCheck() throws {
        let ledger = try makeLedger()
        let a = try #require(try ledger.placedOrders(run: run, provider: .dynadot, afterID: 0, limit: 1).first)
        let waiting = FateReport(fate: .waiting, detail: "active")
        #expect(try ledger.recordFates(run: run, provider: .dynadot, [(a, waiting)], at: t0) == 1)
        #expect(try ledger.recordFates(run: run, provider: .dynadot, [(a, waiting)], at: t0.addingTimeInterval(60)) == 0)
        let auction = FateReport(fate: .inAuction, detail: "open", price: "20", currency: "USD", endsAt: t0.addingTimeInterval(7_200), reference: "r-a")
        #expect(try ledger.recordFates(run: run, provider: .dynadot, [(a, auction)], at: t0.addingTimeInterval(120)) == 1)
        #expect(try ledger.recordFates(run: run, provider: .dynadot, [(a, FateReport(fate: .won, detail: "won", price: "35", currency: "USD"))],
                                       at: t0.addingTimeInterval(180)) == 1)

        let history = try ledger.fateHistory(run: run, provider: .dynadot, domain: domain("a.com"))
        #expect(history.map(\.fate) == [.waiting, .inAuction, .won])
        #expect(history.map(\.at) == [t0, t0.addingTimeInterval(120), t0.addingTimeInterval(180)])
        let current = try #require(try ledger.fate(run: run, provider: .dynadot, domain: domain("a.com")))
        #expect(current.report.fate == .won)
        #expect(current.report.price == "35")
        #expect(current.changedAt == t0.addingTimeInterval(180))
        // A reference the pair lacked is kept.
        #expect(try ledger.placedOrders(run: run, provider: .dynadot, afterID: 0, limit: 1, includeFinal: true).first?.order.reference == "r-a")
        #expect(try ledger.fate(run: run, provider: .dynadot, domain: domain("b.com")) == nil)
    }

    @Test func countsPutANeverRefreshedPlacementUnderWaiting() throws {
        let ledger = try makeLedger()
        let rows = try ledger.placedOrders(run: run, provider: .dynadot, afterID: 0, limit: 10)
        try ledger.recordFates(run: run, provider: .dynadot, [(rows[0], FateReport(fate: .lost, detail: "someone else"))], at: t0)
        #expect(try ledger.fateCounts(run: run) == [.dynadot: [.lost: 1, .waiting: 1]])
    }

    @Test func aChangedFateMakesTheResultFileDueAgain() throws {
        let ledger = try makeLedger()
        let due = try ledger.dueResults(run: run, afterDomain: "", limit: 100)
        try ledger.markWritten(run: run, due)
        #expect(try ledger.dueResults(run: run, afterDomain: "", limit: 100).isEmpty)
        let a = try #require(try ledger.placedOrders(run: run, provider: .dynadot, afterID: 0, limit: 1).first)
        try ledger.recordFates(run: run, provider: .dynadot, [(a, FateReport(fate: .won, detail: "caught"))], at: t0)
        #expect(try ledger.dueResults(run: run, afterDomain: "", limit: 100).map(\.domain) == ["a.com"])
        try ledger.markWritten(run: run, try ledger.dueResults(run: run, afterDomain: "", limit: 100))
        try ledger.recordFates(run: run, provider: .dynadot, [(a, FateReport(fate: .won, detail: "caught"))], at: t0.addingTimeInterval(5))
        #expect(try ledger.dueResults(run: run, afterDomain: "", limit: 100).isEmpty, "an unchanged fate rewrites nothing")
    }
}
