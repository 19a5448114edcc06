@testable import BoBatch
import Foundation
import Testing

/// The lane's hot path through the ledger: the intent keyed by pair ids, and the WAL copied back off the lane's path.
@Suite struct LaneLedgerTests {
    let run = "lane-ledger-test"
    let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }

    func makeLedger(_ names: [String], providers: [ProviderID]) throws -> Ledger {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, names.map { IngestEntry(domain: domain($0), input: $0, source: "list.txt:1", attributes: DomainAttributes()) })
        try ledger.preparePairs(run: run, providers: providers, rememberSince: .distantPast, now: t0)
        return ledger
    }

    @Test func anIntentByPairIdsMarksExactlyThosePairsSendingAndCountsTheirSends() throws {
        let ledger = try makeLedger(["d.com", "b.com", "a.com", "c.com"], providers: [.dynadot, .gname])
        let lane = ledger.lane(run: run, provider: .dynadot)
        // b.com was sent before and put back to pending: it has a row, the others have none yet.
        let first = try lane.beginSend(try lane.pairs(state: .pending, afterSeq: 0, limit: 10).filter { $0.item.domain.ascii == "b.com" }, now: t0)
        try lane.record([PairUpdate(domain: domain("b.com"), state: .pending, code: .requeued, message: "again")], settling: first, as: .refused, now: t0)

        let chunk = try lane.pairs(state: .pending, afterSeq: 0, limit: 3)
        #expect(chunk.map(\.item.domain.ascii) == ["d.com", "b.com", "a.com"])
        let intent = try lane.beginSend(chunk, now: t0)
        #expect(intent > first)
        let sending = try lane.pairs(state: .sending, afterSeq: 0, limit: 10)
        #expect(sending.map(\.item.domain.ascii) == ["d.com", "b.com", "a.com"])
        #expect(sending.map(\.attempts) == [1, 2, 1])
        #expect(try lane.pairs(state: .pending, afterSeq: 0, limit: 10).map(\.item.domain.ascii) == ["c.com"])
        // The other provider's pairs of the same domains are untouched.
        #expect(try ledger.stateCounts(run: run)[.gname] == [.pending: 4])

        // The answer settles them as the old path did: recovery finds nothing mid-send.
        try lane.record(chunk.map { PairUpdate(domain: $0.item.domain, state: .accepted, code: .ok, message: "placed") }, settling: intent, as: .settled, now: t0)
        #expect(try lane.stateCounts() == [.accepted: 3, .pending: 1])
        #expect(try lane.recover(now: t0).interrupted == 0)
    }

    @Test func theCheckpointerCopiesEveryCommittedPageOfTheWAL() throws {
        let ledger = try makeLedger((0..<500).map { "name\($0).com" }, providers: [.dynadot])
        let lane = ledger.lane(run: run, provider: .dynadot)
        let chunk = try lane.pairs(state: .pending, afterSeq: 0, limit: 100)
        let intent = try lane.beginSend(chunk, now: t0)
        try lane.record(chunk.map { PairUpdate(domain: $0.item.domain, state: .accepted, code: .ok, message: "placed") }, settling: intent, as: .settled, now: t0)

        let copy = try lane.checkpointer.checkpoint()
        #expect(copy.walFrames > 0)
        #expect(copy.copied == copy.walFrames)
        // What was committed is what the ledger reads, through its own connections.
        #expect(try lane.stateCounts() == [.accepted: 100, .pending: 400])
    }
}
