@testable import BoBatch
import Foundation
import Testing

/// One decision per invocation: the summary `finish` returns (printed, and the process's exit code),
/// `summary.json`'s `exit_code` / `exit_meaning`, and what `bo-batch status` works out from the ledger afterwards.
@Suite struct ExitAgreementTests {
    let run = "exit-agreement"

    struct Job {
        var job: SubmitJob
        var ledger: Ledger
        var out: String
    }

    func makeJob(_ lines: [String], _ providers: [FakeProvider], out: String = TestPaths.temporaryDirectory("exit-out")) throws -> Job {
        let dir = TestPaths.temporaryDirectory("exit-input")
        let input = (dir as NSString).appendingPathComponent("list.txt")
        #expect(FileManager.default.createFile(atPath: input, contents: Data((lines.joined(separator: "\n") + "\n").utf8)))
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        let lanes = providers.map {
            LaneSetup(provider: $0, settings: LaneSettings(pacing: Pacing(concurrency: 1, requestsPerMinute: 6000), maxAttempts: 5))
        }
        let plan = SubmitPlan(run: run, inputs: [input], inputOptions: InputOptions(), resultsDirectory: out, rememberDays: 30, lanes: lanes)
        return Job(job: try SubmitJob(plan: plan, ledger: ledger, clock: TestClock()), ledger: ledger, out: out)
    }

    func finish(_ job: Job, dryRun: Bool = false, interrupted: Bool = false) async throws -> RunSummary {
        let input = try job.job.ingest { _ in }
        let reports = dryRun ? [] : try await job.job.runLanes()
        return try job.job.finish(input: input, reports: reports, dryRun: dryRun, interrupted: interrupted)
    }

    /// The returned summary, summary.json and `status`'s decision all say `expected`, with the same meaning.
    func expectAgreement(_ summary: RunSummary, _ job: Job, _ expected: BoBatch.ExitStatus, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(summary.exitCode == expected.rawValue, "\(summary.exitMeaning)", sourceLocation: sourceLocation)
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(job.out)/summary.json"))) as? [String: Any] ?? [:]
        #expect(written["exit_code"] as? Int == Int(summary.exitCode), sourceLocation: sourceLocation)
        #expect(written["exit_meaning"] as? String == summary.exitMeaning, sourceLocation: sourceLocation)
        // What `bo-batch status RUN` decides from: the ledger now, with the last invocation's own facts.
        let last = try #require(try job.ledger.lastInvocation(run: run), sourceLocation: sourceLocation)
        let facts = try job.ledger.exitFacts(run: run, invocation: last)
        #expect(BoBatch.ExitStatus.decide(facts).rawValue == summary.exitCode, sourceLocation: sourceLocation)
        #expect(BoBatch.ExitStatus.meaning(of: facts) == summary.exitMeaning, sourceLocation: sourceLocation)
    }

    @Test func anInterruptedRunThatGotEverythingDoneSays3Everywhere() async throws {
        // Before: summary.json said 0 while the screen said 3 (with 0's meaning) and the process exited 3.
        let job = try makeJob(["a.com", "b.com"], [FakeProvider()])
        let summary = try await finish(job, interrupted: true)
        try expectAgreement(summary, job, .incomplete)
        #expect(summary.exitMeaning.hasPrefix("interrupted"))
    }

    @Test func anInterruptedRunWithAHaltedLaneSays4Everywhere() async throws {
        // Before: the screen and summary.json said 4, the process exited 3.
        let halting = FakeProvider(id: .oneapi)
        halting.script(.halt(reason: "credentials rejected", fix: "check ONEAPI_LOGIN"))
        let job = try makeJob(["a.com", "b.com"], [FakeProvider(), halting])
        let summary = try await finish(job, interrupted: true)
        try expectAgreement(summary, job, .halted)
    }

    @Test func aHaltedLaneSays4AndSoDoesStatus() async throws {
        // Before: status said 3 (it did not know about the halt).
        let halting = FakeProvider(id: .oneapi)
        halting.script(.halt(reason: "credentials rejected", fix: "check ONEAPI_LOGIN"))
        let job = try makeJob(["a.com", "b.com"], [FakeProvider(), halting])
        let summary = try await finish(job)
        try expectAgreement(summary, job, .halted)
        #expect(try job.ledger.lastInvocation(run: run)?.haltedLanes == [.oneapi])
        // What a run cut short by a cancellation passes to `finish` instead of `runLanes`' reports.
        #expect(await job.job.reportsSoFar().filter { $0.halt != nil }.map(\.provider) == [.oneapi])
    }

    @Test func unknownPairsNoLookupCanSettleSay1AndSoDoesStatus() async throws {
        // Before: the run exited 1, status said 3.
        let dnspod = FakeProvider(id: .dnspod, maxBatch: 1)
        dnspod.supportsLookup = false
        dnspod.script(.maybeProcessed(reason: "connection reset"), .maybeProcessed(reason: "connection reset"))
        let job = try makeJob(["a.com", "b.com"], [dnspod])
        let summary = try await finish(job)
        let counts = try job.ledger.stateCounts(run: run)
        #expect(counts[.dnspod]?[.unknown] == 1 && counts[.dnspod]?[.accepted] == 1, "\(counts)")
        #expect(try job.ledger.resumableCount(run: run) == 0)
        try expectAgreement(summary, job, .someRejected)
    }

    @Test func aDryRunSaysWhatItsInputDeservesAndSoDoesStatus() async throws {
        // Before: status said 3 (every pair still to send) for a dry run that exited 0.
        let job = try makeJob(["a.com", "b.com"], [FakeProvider()])
        let summary = try await finish(job, dryRun: true)
        try expectAgreement(summary, job, .success)
        #expect(summary.exitMeaning.hasPrefix("dry run"))

        let invalid = try makeJob(["a.com", "not a domain"], [FakeProvider()])
        try expectAgreement(try await finish(invalid, dryRun: true), invalid, .someRejected)
    }

    @Test func anUnwrittenResultFileSays5AndSoDoesStatus() async throws {
        // Before: status said 0.
        let out = TestPaths.temporaryDirectory("exit-out")
        try FileManager.default.createDirectory(atPath: "\(out)/b.com.json", withIntermediateDirectories: false)
        let job = try makeJob(["a.com", "b.com"], [FakeProvider()], out: out)
        let summary = try await finish(job)
        try expectAgreement(summary, job, .resultFilesUnwritten)
    }
}
