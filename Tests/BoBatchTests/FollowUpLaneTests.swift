@testable import BoBatch
import Foundation
import Testing

/// The follow-up lane (refresh and cancel) against scripted providers, with the real ledger and a test clock.
@Suite struct FollowUpLaneTests {
    let run = "fu"

    /// A ledger whose run placed `domains` at `provider` (accepted).
    func placed(_ domains: [String], provider: ProviderID = .dynadot) throws -> Ledger {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run)
        try ledger.ingest(run: run, domains.map { IngestEntry(domain: DomainName(validatedASCII: $0), input: $0, source: "t:1", attributes: DomainAttributes()) })
        try ledger.preparePairs(run: run, providers: [provider], rememberSince: .distantPast)
        try ledger.record(run: run, provider: provider, domains.map { PairUpdate(domain: DomainName(validatedASCII: $0), state: .accepted, message: "added") })
        return ledger
    }

    func lane(_ provider: FollowUpFakeProvider, _ ledger: Ledger, clock: TestClock = TestClock(), perMinute: Double = 6000, concurrency: Int = 1) -> FollowUpLane {
        FollowUpLane(
            setup: LaneSetup(provider: provider, settings: LaneSettings(pacing: Pacing(concurrency: concurrency, requestsPerMinute: perMinute))),
            ledger: ledger, clock: clock, random: { 0.5 })
    }

    func fate(_ ledger: Ledger, _ domain: String, _ provider: ProviderID = .dynadot) throws -> Fate? {
        try ledger.fate(run: run, provider: provider, domain: DomainName(validatedASCII: domain))?.report.fate
    }

    static func names(_ n: Int) -> [String] { (0..<n).map { "d\($0).com" } }

    // MARK: refresh

    @Test func refreshChunksToTheProvidersBatch() async throws {
        let ledger = try placed(Self.names(250))
        let provider = FollowUpFakeProvider(refreshBatch: 100)
        let report = try await lane(provider, ledger).refresh(runs: [run])
        #expect(provider.refreshes.map(\.count) == [100, 100, 50])
        #expect(report.answered == 250)
        #expect(ExitStatus.decide(FollowUpFacts(command: .refresh, incomplete: report.incomplete, notPossible: report.notPossible)) == .success)
    }

    @Test func aListProviderGetsAHundredThousandOrdersInOneCall() async throws {
        let ledger = try placed(Self.names(100_000))
        let provider = FollowUpFakeProvider(refreshBatch: Int.max)
        let report = try await lane(provider, ledger).refresh(runs: [run])
        #expect(provider.refreshes.map(\.count) == [100_000])
        #expect(report.answered == 100_000)
        #expect(try ledger.fateCounts(run: run)[.dynadot] == [.waiting: 100_000])
    }

    @Test func fatesAreRecordedWithHistoryAndFinalOnesAreNotAskedAgain() async throws {
        let ledger = try placed(["won.com", "lost.com", "wait.com"])
        let provider = FollowUpFakeProvider()
        provider.fates = ["won.com": FateReport(fate: .won, detail: "Won", price: "12.50", currency: "USD"), "lost.com": FateReport(fate: .lost, detail: "Lost")]
        _ = try await lane(provider, ledger).refresh(runs: [run])
        #expect(try fate(ledger, "won.com") == .won)
        #expect(try ledger.fate(run: run, provider: .dynadot, domain: DomainName(validatedASCII: "won.com"))?.report.price == "12.50")
        provider.fates["wait.com"] = FateReport(fate: .inAuction, detail: "auction", price: "20")
        let second = try await lane(provider, ledger).refresh(runs: [run])
        #expect(provider.refreshes.last == ["wait.com"])
        #expect(second.changed == 1)
        #expect(try ledger.fateHistory(run: run, provider: .dynadot, domain: DomainName(validatedASCII: "wait.com")).map(\.fate) == [.waiting, .inAuction])
    }

    @Test func refusalsWaitRetryAfterThenAskAgain() async throws {
        let ledger = try placed(["a.com"])
        let provider = FollowUpFakeProvider()
        provider.scriptRefresh(.refused(reason: "too many", retryAfterSeconds: 7))
        let clock = TestClock()
        let report = try await lane(provider, ledger, clock: clock).refresh(runs: [run])
        #expect(provider.refreshes.count == 2)
        #expect(clock.sleeps.contains(7))
        #expect(report.answered == 1 && report.incomplete == 0)
    }

    @Test func refusalsInARowGiveUpAsIncomplete() async throws {
        let ledger = try placed(["a.com"])
        let provider = FollowUpFakeProvider()
        for _ in 0..<20 { provider.scriptRefresh(.refused(reason: "busy", retryAfterSeconds: nil)) }
        let report = try await lane(provider, ledger).refresh(runs: [run])
        #expect(provider.refreshes.count == LaneSettings(pacing: Pacing(concurrency: 1, requestsPerMinute: 1)).maxRefusalsInARow)
        #expect(report.incomplete == 1)
        #expect(ExitStatus.decide(FollowUpFacts(command: .refresh, incomplete: report.incomplete)) == .incomplete)
    }

    @Test func unavailableLeavesTheFatesAsTheyWereForARerun() async throws {
        let ledger = try placed(["a.com"])
        let provider = FollowUpFakeProvider()
        provider.fates["a.com"] = FateReport(fate: .inAuction, detail: "auction")
        _ = try await lane(provider, ledger).refresh(runs: [run])
        provider.scriptRefresh(.unavailable(reason: "timeout"))
        let report = try await lane(provider, ledger).refresh(runs: [run])
        #expect(try fate(ledger, "a.com") == .inAuction)
        #expect(report.incomplete == 1)
    }

    @Test func aHaltStopsTheLaneWithItsFix() async throws {
        let ledger = try placed(Self.names(3))
        let provider = FollowUpFakeProvider(refreshBatch: 1)
        provider.scriptRefresh(.halt(reason: "bad key", fix: "set DYNADOT_API_KEY"))
        let report = try await lane(provider, ledger).refresh(runs: [run])
        #expect(provider.refreshes.count == 1)
        #expect(report.halt?.fix == "set DYNADOT_API_KEY")
        #expect(ExitStatus.decide(FollowUpFacts(command: .refresh, haltedLanes: [.dynadot], incomplete: 3)) == .halted)
    }

    @Test func aProviderWithoutRefreshIsNotAsked() async throws {
        let ledger = try placed(["a.com"], provider: .dnspod)
        let provider = FollowUpFakeProvider(id: .dnspod, refreshBatch: nil)
        let report = try await lane(provider, ledger).refresh(runs: [run])
        #expect(provider.refreshes.isEmpty)
        #expect(report.notOffered == "nothing to refresh here")
        #expect(report.orders == 1 && report.notPossible == 0)
    }

    @Test func refreshIsPacedAtTheLanesRate() async throws {
        let ledger = try placed(Self.names(4))
        let provider = FollowUpFakeProvider(refreshBatch: 1)
        let clock = TestClock()
        _ = try await lane(provider, ledger, clock: clock, perMinute: 60).refresh(runs: [run])
        #expect(provider.refreshes.count == 4)
        // One request per second: three waits of a second between four starts.
        #expect(abs(clock.sleeps.reduce(0, +) - 3) < 0.01)
    }

    @Test func unknownFatesAreNotPossible() async throws {
        let ledger = try placed(["a.com"])
        let provider = FollowUpFakeProvider()
        provider.fates["a.com"] = FateReport(fate: .unknown, detail: "status 99 not documented")
        let report = try await lane(provider, ledger).refresh(runs: [run])
        #expect(report.notPossible == 1)
        #expect(ExitStatus.decide(FollowUpFacts(command: .refresh, notPossible: 1)) == .someRejected)
    }

    // MARK: cancel

    @Test func cancelWithdrawsRecordsTheFateAndNeverSendsAWonOrder() async throws {
        let ledger = try placed(["won.com", "a.com", "b.com"])
        let provider = FollowUpFakeProvider()
        provider.hold(["won.com", "a.com", "b.com"])
        provider.fates["won.com"] = FateReport(fate: .won, detail: "Won")
        _ = try await lane(provider, ledger).refresh(runs: [run])
        let l = lane(provider, ledger)
        let plan = try l.planCancel(CancelSelection(runs: [run]))
        #expect(plan.won.map(\.order.domain.ascii) == ["won.com"])
        let report = try await l.cancel(plan)
        #expect(provider.cancelRequests == [["a.com", "b.com"]])
        #expect(report.answered == 2 && report.notPossible == 1)
        #expect(report.notes.contains("won.com: won: cannot be cancelled"))
        #expect(try fate(ledger, "a.com") == .cancelled)
        #expect(try ledger.fateHistory(run: run, provider: .dynadot, domain: DomainName(validatedASCII: "a.com")).map(\.fate) == [.waiting, .cancelled])
        // A rerun finds nothing left to withdraw.
        let again = try lane(provider, ledger).planCancel(CancelSelection(runs: [run]))
        #expect(again.sendCount == 0 && again.final == 2)
    }

    @Test func aRefusedCancelIsRecordedWithTheReasonAndNotSentAgain() async throws {
        let ledger = try placed(["a.com"])
        let provider = FollowUpFakeProvider()
        provider.hold(["a.com"])
        provider.refuseCancel["a.com"] = "is_processing: cannot delete"
        let report = try await lane(provider, ledger).cancel(try lane(provider, ledger).planCancel(CancelSelection(runs: [run])))
        #expect(report.notPossible == 1)
        let again = try lane(provider, ledger).planCancel(CancelSelection(runs: [run]))
        #expect(again.sendCount == 0)
        #expect(again.refusedBefore.first?.message == "is_processing: cannot delete")
        #expect(try ledger.cancelCounts(run: run)[.dynadot] == [.refused: 1])
    }

    @Test func cancelsAreChunkedToTheProvidersBatch() async throws {
        let ledger = try placed(Self.names(250))
        let provider = FollowUpFakeProvider(cancelBatch: 100)
        provider.hold(Self.names(250))
        let l = lane(provider, ledger, concurrency: 3)
        _ = try await l.cancel(try l.planCancel(CancelSelection(runs: [run])))
        #expect(provider.cancelRequests.map(\.count).sorted() == [50, 100, 100])
        #expect(provider.effectiveCancels.count == 250 && provider.effectiveCancels.values.allSatisfy { $0 == 1 })
    }

    @Test func anUnclearCancelThatLandedIsSettledByLookupNotResent() async throws {
        let ledger = try placed(["a.com", "b.com"])
        let provider = FollowUpFakeProvider()
        provider.hold(["a.com", "b.com"])
        provider.scriptCancel(.maybeProcessed(reason: "done: connection reset after the request"))
        let l = lane(provider, ledger)
        let report = try await l.cancel(try l.planCancel(CancelSelection(runs: [run])))
        #expect(provider.cancelRequests.count == 1)
        #expect(provider.lookups == 1)
        #expect(report.answered == 2)
        #expect(try fate(ledger, "a.com") == .cancelled)
        #expect(provider.effectiveCancels == ["a.com": 1, "b.com": 1])
    }

    @Test func anUnclearCancelStillHeldIsSentAgain() async throws {
        let ledger = try placed(["a.com"])
        let provider = FollowUpFakeProvider()
        provider.hold(["a.com"])
        provider.scriptCancel(.maybeProcessed(reason: "timeout before the provider acted"))
        let l = lane(provider, ledger)
        _ = try await l.cancel(try l.planCancel(CancelSelection(runs: [run])))
        #expect(provider.cancelRequests.count == 2)
        #expect(provider.effectiveCancels == ["a.com": 1])
        #expect(try fate(ledger, "a.com") == .cancelled)
    }

    @Test func withoutALookupAnUnclearCancelIsNeverResentBlindly() async throws {
        let ledger = try placed(["a.com"])
        let provider = FollowUpFakeProvider()
        provider.hold(["a.com"])
        provider.supportsLookup = false
        provider.scriptCancel(.maybeProcessed(reason: "timeout"))
        let l = lane(provider, ledger)
        let report = try await l.cancel(try l.planCancel(CancelSelection(runs: [run])))
        #expect(provider.cancelRequests.count == 1)
        #expect(report.notPossible == 1)
        #expect(try ledger.cancelCounts(run: run)[.dynadot] == [.unclear: 1])
    }

    @Test func aCancelInterruptedAfterItsIntentIsLookedUpOnTheRerun() async throws {
        let ledger = try placed(["a.com", "b.com"])
        let provider = FollowUpFakeProvider()
        provider.hold(["a.com", "b.com"])
        // An earlier invocation committed the intent, the provider withdrew a.com, and the process died.
        let rows = try ledger.placedOrders(run: run, provider: .dynadot, afterID: 0, limit: 10)
        _ = try ledger.beginCancel(run: run, provider: .dynadot, rows)
        provider.withdrawSilently(["a.com"])
        #expect(try ledger.unsettledCancelIntents(run: run) == 1)
        let l = lane(provider, ledger)
        let plan = try l.planCancel(CancelSelection(runs: [run]))
        #expect(plan.settleCount == 2 && plan.sendCount == 0)
        _ = try await l.cancel(plan)
        // a.com: proven gone, not sent again; b.com: still held, so sent once.
        #expect(provider.cancelRequests == [["b.com"]])
        #expect(provider.effectiveCancels == ["a.com": 1, "b.com": 1])
        #expect(try fate(ledger, "a.com") == .cancelled && fate(ledger, "b.com") == .cancelled)
    }

    @Test func aProviderWithoutCancelIsReportedAndNothingIsSent() async throws {
        let ledger = try placed(["a.com"], provider: .gname)
        let provider = FollowUpFakeProvider(id: .gname, cancelBatch: nil)
        let l = lane(provider, ledger)
        let report = try await l.cancel(try l.planCancel(CancelSelection(runs: [run])))
        #expect(provider.cancelRequests.isEmpty)
        #expect(report.notOffered == "this API offers no cancel")
        #expect(report.notPossible == 1)
    }

    @Test func aRefusedCancelWaitsThenGoesThrough() async throws {
        let ledger = try placed(["a.com"])
        let provider = FollowUpFakeProvider()
        provider.hold(["a.com"])
        provider.scriptCancel(.refused(reason: "rate", retryAfterSeconds: 5))
        let clock = TestClock()
        let l = lane(provider, ledger, clock: clock)
        _ = try await l.cancel(try l.planCancel(CancelSelection(runs: [run])))
        #expect(provider.cancelRequests.count == 2)
        #expect(clock.sleeps.contains(5))
        #expect(try fate(ledger, "a.com") == .cancelled)
    }

    @Test func aCancelHaltStopsAndLeavesTheOrdersWanted() async throws {
        let ledger = try placed(Self.names(3))
        let provider = FollowUpFakeProvider(cancelBatch: 1)
        provider.hold(Self.names(3))
        provider.scriptCancel(.halt(reason: "key revoked", fix: "renew the key"))
        let l = lane(provider, ledger)
        let report = try await l.cancel(try l.planCancel(CancelSelection(runs: [run])))
        #expect(provider.cancelRequests.count == 1)
        #expect(report.halt?.reason == "key revoked")
        #expect(try l.planCancel(CancelSelection(runs: [run])).sendCount == 3)
    }

    @Test func theSelectionNarrowsToTheGivenDomains() async throws {
        let ledger = try placed(["a.com", "b.com", "c.com"])
        let provider = FollowUpFakeProvider()
        let plan = try lane(provider, ledger).planCancel(CancelSelection(runs: [run], domains: ["b.com"]))
        #expect(plan.toSend[run]?.map(\.order.domain.ascii) == ["b.com"])
    }
}

@Suite struct FollowUpExitTests {
    @Test func thePrecedenceIsHaltThenIncompleteThenUnwrittenThenNotPossible() {
        #expect(ExitStatus.decide(FollowUpFacts(command: .cancel)) == .success)
        #expect(ExitStatus.decide(FollowUpFacts(command: .cancel, notPossible: 1)) == .someRejected)
        #expect(ExitStatus.decide(FollowUpFacts(command: .cancel, notPossible: 1, unwrittenResultFiles: 1)) == .resultFilesUnwritten)
        #expect(ExitStatus.decide(FollowUpFacts(command: .cancel, incomplete: 1, notPossible: 1, unwrittenResultFiles: 1)) == .incomplete)
        #expect(ExitStatus.decide(FollowUpFacts(command: .refresh, interrupted: true)) == .incomplete)
        #expect(ExitStatus.decide(FollowUpFacts(command: .refresh, haltedLanes: [.yay], interrupted: true, incomplete: 1)) == .halted)
        #expect(ExitStatus.meaning(of: FollowUpFacts(command: .refresh, interrupted: true)).hasPrefix("interrupted: "))
    }
}
