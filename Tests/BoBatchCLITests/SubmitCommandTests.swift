import ArgumentParser
@testable import BoBatch
@testable import BoBatchCLI
import Testing

@Suite struct SubmitCommandTests {
    @Test func parsesTheOptionsACronLineUses() throws {
        let command = try BoBatchCommand.parseAsRoot(["submit", "--provider", "dynadot,gname", "--run", "nightly", "--state", "/tmp/s", "--out", "/tmp/o", "--column", "Domain", "--delimiter", "tab", "--quiet", "a.csv", "b.txt"])
        let submit = try #require(command as? SubmitCommand)
        #expect(submit.files == ["a.csv", "b.txt"])
        #expect(submit.provider == "dynadot,gname")
        #expect(submit.run == "nightly")
        #expect(submit.quiet)
        #expect(submit.rememberDays == nil, "30 unless the config file's [defaults] remember_days says otherwise")
    }

    @Test func rejectsBadValuesAsUsageErrors() throws {
        for args in [["submit"], ["submit", "--run", "../x", "a.txt"], ["submit", "--remember-days", "-1", "a.txt"], ["submit", "--max-attempts", "0", "a.txt"]] {
            #expect(throws: (any Error).self, "\(args)") { try BoBatchCommand.parseAsRoot(args) }
        }
        #expect(throws: (any Error).self) { try SubmitCommand.delimiterByte("|") }
        #expect(try SubmitCommand.delimiterByte("tab") == UInt8(ascii: "\t"))
        #expect(try SubmitCommand.delimiterByte(";") == UInt8(ascii: ";"))
    }

    @Test func theRunIsNamedAfterTheFirstFile() {
        #expect(SubmitCommand.defaultRunName(["/data/drops-2025-10-27.txt", "x.csv"]) == "drops-2025-10-27")
        #expect(SubmitCommand.defaultRunName(["-"]) == "stdin")
        #expect(SubmitCommand.defaultRunName([".hidden"]) == "run")
    }

    @Test func selectingAnUnconfiguredProviderIsAUsageError() {
        #expect(throws: ExitCode(ExitStatus.usage.rawValue)) {
            try SubmitCommand.selectLanes("dynadot", env: [:], sandbox: false, maxAttempts: 5)
        }
        #expect(throws: ExitCode(ExitStatus.usage.rawValue)) {
            try SubmitCommand.selectLanes("nosuch", env: ["DYNADOT_API_KEY": "k"], sandbox: false, maxAttempts: 5)
        }
        #expect(throws: ExitCode(ExitStatus.usage.rawValue)) {
            try SubmitCommand.selectLanes(nil, env: [:], sandbox: false, maxAttempts: 5)
        }
    }

    @Test func everyConfiguredProviderIsUsedByDefault() throws {
        let lanes = try SubmitCommand.selectLanes(nil, env: ["DYNADOT_API_KEY": "k", "YAY_RESELLER": "r", "YAY_USER": "u", "YAY_PASSWORD": "p", "DYNADOT_THREADS": "2"], sandbox: false, maxAttempts: 5)
        #expect(lanes.map(\.provider.id) == [.dynadot, .yay])
        #expect(lanes[0].settings.pacing == Pacing(concurrency: 2, requestsPerMinute: 60))
    }

    @Test func progressLinesShowDoneTotalRateAndETA() {
        let line = ProgressPrinter.render([
            LaneProgress(provider: .dynadot, total: 1000, done: 400, doneThisInvocation: 200, startedAt: 0, halted: false),
            LaneProgress(provider: .gname, total: 10, done: 1, doneThisInvocation: 1, startedAt: 0, halted: true),
        ], now: 100)
        #expect(line == "dynadot 400/1000 2.0/s ETA 5:00 | gname 1/10 HALTED")
    }

    @Test func aLaneSlowedByRefusalsSaysHowMuchHowLongAndWhy() {
        let slowed = PacerStatus(rate: 0.4, ceiling: 1, streak: 3, reason: "DNSPod says the API is used too frequently: API usage is limited", wait: 12.2)
        let waiting = PacerStatus(rate: 10, ceiling: 10, streak: 1, reason: "HTTP 503, Retry-After 2 s", wait: 2)
        let line = ProgressPrinter.render([
            LaneProgress(provider: .dnspod, total: 100, done: 40, doneThisInvocation: 40, startedAt: 0, halted: false, pacer: slowed),
            LaneProgress(provider: .yay, total: 100, done: 40, doneThisInvocation: 40, startedAt: 0, halted: false, pacer: waiting),
            LaneProgress(provider: .gname, total: 100, done: 100, doneThisInvocation: 100, startedAt: 0, halted: false, pacer: slowed),
        ], now: 100)
        #expect(line == "dnspod 40/100 0.4/s ETA 2:30 (slowed to 40% after 3 refusals, resend in 0:12: DNSPod says the API is used too frequently: API usage is li…)"
            + " | yay 40/100 0.4/s ETA 2:30 (resend in 0:02: HTTP 503, Retry-After 2 s) | gname 100/100 1.0/s")
    }
}

@Suite struct ResultFileFailureTests {
    @Test func anUnwrittenFileIsReportedWithItsPathDomainAndReason() {
        let failure = ResultFileFailure(file: "out/b.com.json", domain: "b.com", error: "Is a directory")
        #expect(failure.description == "cannot write out/b.com.json (the result of b.com): Is a directory")
        #expect(ResultFileFailure(file: "out/invalid.tsv", error: "No space left on device").description == "cannot write out/invalid.tsv: No space left on device")
    }
}
