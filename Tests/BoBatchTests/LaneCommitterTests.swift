@testable import BoBatch
import Foundation
import Testing

/// The lane's group commit: intents prepared ahead wait for company, and are committed together, or by the worker
/// that needs one before anyone else came.
@Suite struct LaneCommitterTests {
    let run = "lane-committer-test"
    let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    func makeLedger(_ count: Int) throws -> Ledger {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, (0..<count).map {
            IngestEntry(domain: DomainName(validatedASCII: "d\($0).com"), input: "d\($0).com", source: "list.txt:1", attributes: DomainAttributes())
        })
        try ledger.preparePairs(run: run, providers: [.gname], rememberSince: .distantPast, now: t0)
        return ledger
    }

    @Test func intentsWaitForCompanyAndCommitTogetherOrWhenTheirWorkerNeedsOne() throws {
        let ledger = try makeLedger(5)
        let lane = ledger.lane(run: run, provider: .gname)
        let committer = LaneCommitter(ledger: lane, groupSize: 3)
        let pending = try lane.pairs(state: .pending, afterSeq: 0, limit: 10)

        let first = try committer.add(.init(answer: nil, pairs: [pending[0]], now: t0))
        let second = try committer.add(.init(answer: nil, pairs: [pending[1]], now: t0))
        #expect(try lane.stateCounts() == [.pending: 5], "two intents wait for a third")
        let third = try committer.add(.init(answer: nil, pairs: [pending[2]], now: t0))
        #expect(try lane.stateCounts() == [.sending: 3, .pending: 2], "the third brings the commit")
        let intents = try [first, second, third].map(committer.intent(of:))
        #expect(intents == intents.sorted() && Set(intents).count == 3)

        // A held answer waits in the queue with its worker's next intent; the worker about to send commits both.
        let held = Lane.UnrecordedAnswer(
            updates: [PairUpdate(domain: pending[0].item.domain, state: .accepted, code: .ok, message: "placed")],
            pairs: [pending[0]], intent: intents[0], answeredAt: t0, sent: nil)
        let fourth = try committer.add(.init(answer: held, pairs: [pending[3]], now: t0))
        #expect(try lane.stateCounts() == [.sending: 3, .pending: 2])
        #expect(try committer.intent(of: fourth) > intents[2])
        #expect(try lane.stateCounts() == [.accepted: 1, .sending: 3, .pending: 1])
        // Asked again, a ticket answers from what its commit left; nothing is committed twice.
        #expect(try committer.intent(of: fourth) == committer.intent(of: fourth))
        #expect(try ledger.reportIntents(run: run).count == 4)
    }
}
