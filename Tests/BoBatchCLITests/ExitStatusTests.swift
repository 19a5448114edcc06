import ArgumentParser
@testable import BoBatch
@testable import BoBatchCLI
import Foundation
import Testing

/// `ExitStatus.decide`, the one place that turns a run's facts into its exit code: every input, and which wins.
@Suite struct ExitStatusTests {
    static let placed: [ProviderID: [PairState: Int]] = [.dynadot: [.accepted: 3, .already: 1], .gname: [.accepted: 4]]

    func decide(
        _ counts: [ProviderID: [PairState: Int]] = placed, resumable: Int = 0, invalid: Int = 0,
        dryRun: Bool = false, halted: [ProviderID] = [], interrupted: Bool = false, unwritten: Int = 0
    ) -> BoBatch.ExitStatus {
        BoBatch.ExitStatus.decide(ExitFacts(
            counts: counts, resumable: resumable, invalidInputs: invalid,
            invocation: InvocationFacts(dryRun: dryRun, haltedLanes: halted, interrupted: interrupted, unwrittenResultFiles: unwritten)))
    }

    @Test func everyPairPlacedOrNothingToDoIs0() {
        #expect(decide() == .success)
        #expect(decide([:]) == .success)
        #expect(decide([.dynadot: [.accepted: 0]]) == .success)
    }

    @Test func rejectedSkippedInvalidOrUnknownForGoodIs1() {
        #expect(decide([.dynadot: [.accepted: 3, .rejected: 1]]) == .someRejected)
        #expect(decide([.oneapi: [.skipped: 2]]) == .someRejected)
        #expect(decide(invalid: 2) == .someRejected)
        // DNSPod sent twice without an answer: `unknown`, but no lookup and no rerun can settle it.
        #expect(decide([.dnspod: [.accepted: 5, .unknown: 2]], resumable: 0) == .someRejected)
    }

    @Test func anythingARerunCanStillMoveIs3() {
        for state in [PairState.pending, .sending, .unknown, .failed] {
            #expect(decide([.dynadot: [.accepted: 1, state: 1]], resumable: 1) == .incomplete, "\(state)")
        }
        // Resumable pairs next to final ones: still 3.
        #expect(decide([.dynadot: [.rejected: 1, .unknown: 1]], resumable: 1, invalid: 3) == .incomplete)
    }

    @Test func anInterruptedRunIs3EvenWhenTheLedgerHasNothingLeft() {
        #expect(decide(interrupted: true) == .incomplete)
        #expect(decide([.dynadot: [.rejected: 1]], invalid: 1, interrupted: true) == .incomplete)
    }

    @Test func aHaltedLaneIs4AndWinsOverEverythingButADryRun() {
        #expect(decide([.oneapi: [.failed: 10]], resumable: 10, halted: [.oneapi]) == .halted)
        #expect(decide(halted: [.oneapi]) == .halted)
        #expect(decide(resumable: 3, halted: [.oneapi], interrupted: true, unwritten: 2) == .halted)
    }

    @Test func unwrittenResultFilesTurnAFinishedRunInto5ButNot3Or4() {
        #expect(decide(unwritten: 1) == .resultFilesUnwritten)
        #expect(decide([.dynadot: [.rejected: 1]], invalid: 1, unwritten: 1) == .resultFilesUnwritten)
        #expect(decide([.dnspod: [.unknown: 1]], resumable: 0, unwritten: 1) == .resultFilesUnwritten)
        #expect(decide([.dynadot: [.pending: 1]], resumable: 1, unwritten: 1) == .incomplete)
        #expect(decide(interrupted: true, unwritten: 1) == .incomplete)
        #expect(decide(halted: [.yay], unwritten: 1) == .halted)
    }

    @Test func aDryRunJudgesTheInputOnly() {
        // Nothing was sent, so every pair is still to send: the ledger's resumable pairs do not make it 3.
        let toSend: [ProviderID: [PairState: Int]] = [.dynadot: [.pending: 5], .gname: [.pending: 5]]
        #expect(decide(toSend, resumable: 10, dryRun: true) == .success)
        #expect(decide(toSend, resumable: 10, invalid: 1, dryRun: true) == .someRejected)
        #expect(decide(toSend, resumable: 10, dryRun: true, unwritten: 1) == .resultFilesUnwritten)
        #expect(decide(toSend, resumable: 10, invalid: 1, dryRun: true, unwritten: 1) == .resultFilesUnwritten)
        // A dry run runs no lane and installs no signal handler; facts saying otherwise do not count.
        #expect(decide(toSend, resumable: 10, dryRun: true, halted: [.dynadot], interrupted: true) == .success)
    }

    /// Every combination of the inputs, against the documented order: dry run (input only, then 5), 4, 3, 5, 1, 0.
    @Test func thePrecedenceHoldsForEveryCombination() {
        for bits in 0..<(1 << 8) {
            func on(_ bit: Int) -> Bool { bits & (1 << bit) != 0 }
            let (dryRun, halted, interrupted, resumable, unwritten, rejected, invalid, unknownForGood) =
                (on(0), on(1), on(2), on(3), on(4), on(5), on(6), on(7))
            var counts: [PairState: Int] = [.accepted: 2]
            if resumable { counts[.pending] = 1 }
            if rejected { counts[.rejected] = 1 }
            if unknownForGood { counts[.unknown] = 1 }
            let got = decide([.dynadot: counts], resumable: resumable ? 1 : 0, invalid: invalid ? 1 : 0,
                             dryRun: dryRun, halted: halted ? [.dynadot] : [], interrupted: interrupted, unwritten: unwritten ? 1 : 0)
            let expected: BoBatch.ExitStatus =
                dryRun ? (unwritten ? .resultFilesUnwritten : invalid ? .someRejected : .success)
                : halted ? .halted
                : interrupted || resumable ? .incomplete
                : unwritten ? .resultFilesUnwritten
                : rejected || invalid || unknownForGood ? .someRejected
                : .success
            #expect(got == expected, "dryRun \(dryRun) halted \(halted) interrupted \(interrupted) resumable \(resumable) unwritten \(unwritten) rejected \(rejected) invalid \(invalid) unknownForGood \(unknownForGood)")
        }
    }

    @Test func theMeaningFollowsTheDecision() {
        func facts(invalid: Int = 0, dryRun: Bool = false, interrupted: Bool = false, unwritten: Int = 0) -> ExitFacts {
            ExitFacts(counts: Self.placed, resumable: 0, invalidInputs: invalid,
                      invocation: InvocationFacts(dryRun: dryRun, interrupted: interrupted, unwrittenResultFiles: unwritten))
        }
        #expect(BoBatch.ExitStatus.meaning(of: facts()) == BoBatch.ExitStatus.success.meaning)
        #expect(BoBatch.ExitStatus.meaning(of: facts(invalid: 1)) == BoBatch.ExitStatus.someRejected.meaning)
        #expect(BoBatch.ExitStatus.meaning(of: facts(interrupted: true)) == "interrupted: " + BoBatch.ExitStatus.incomplete.meaning)
        #expect(BoBatch.ExitStatus.meaning(of: facts(dryRun: true)) == "dry run: input read, checked and recorded; nothing sent")
        #expect(BoBatch.ExitStatus.meaning(of: facts(invalid: 2, dryRun: true)).hasSuffix("; some input is not a domain (invalid.tsv)"))
        #expect(BoBatch.ExitStatus.meaning(of: facts(dryRun: true, unwritten: 1)) == BoBatch.ExitStatus.resultFilesUnwritten.meaning)
    }

    @Test func theInvocationFactsSurviveTheLedgerRoundTrip() throws {
        let ledger = try Ledger(directory: (NSTemporaryDirectory() as NSString).appendingPathComponent("exit-\(UUID().uuidString)"))
        try ledger.openRun("r")
        #expect(try ledger.lastInvocation(run: "r") == nil)
        let facts = InvocationFacts(dryRun: false, haltedLanes: [.oneapi, .yay], interrupted: true, unwrittenResultFiles: 7)
        try ledger.recordLastInvocation(run: "r", facts)
        #expect(try ledger.lastInvocation(run: "r") == facts)
        // A new invocation forgets the last one's facts until it has its own.
        try ledger.openRun("r")
        #expect(try ledger.lastInvocation(run: "r") == nil)
    }
}

/// README.md's table, `bo-batch --help` and `submit --help` all come from `BoBatch.ExitStatus`.
@Suite struct ExitCodeDocumentationTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The rows of README's "## Exit codes" table: code and meaning (backticks dropped), in order.
    static func readmeRows() throws -> [(code: String, meaning: String)] {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## Exit codes\n").dropFirst().first, "README.md has no '## Exit codes' section")
        let table = section.components(separatedBy: "\n").drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
        return table.dropFirst(2).map { line in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            return (cells.count > 2 ? cells[1] : "", cells.count > 2 ? cells[2].replacingOccurrences(of: "`", with: "") : "")
        }
    }

    @Test func readmesTableIsExitStatusRowByRow() throws {
        let rows = try Self.readmeRows()
        #expect(rows.count == BoBatch.ExitStatus.allCases.count, "README rows: \(rows.map(\.code))")
        for (row, status) in zip(rows, BoBatch.ExitStatus.allCases) {
            #expect(row.code == String(status.rawValue))
            #expect(row.meaning == status.meaning, "code \(status.rawValue)")
        }
    }

    /// README's "### Exit codes of refresh and cancel" table is ``ExitStatus/followUpMeaning`` row by row.
    @Test func readmesFollowUpTableIsExitStatusRowByRow() throws {
        let readme = try String(contentsOf: Self.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n### Exit codes of refresh and cancel\n").dropFirst().first, "README.md has no refresh/cancel exit table")
        let rows = section.components(separatedBy: "\n").drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2).map { line in
            line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        #expect(rows.count == BoBatch.ExitStatus.allCases.count)
        for (row, status) in zip(rows, BoBatch.ExitStatus.allCases) {
            #expect(row[1] == String(status.rawValue))
            #expect(row[2].replacingOccurrences(of: "`", with: "") == status.followUpMeaning, "code \(status.rawValue)")
        }
    }

    @Test func refreshAndCancelHelpListEveryCodeWithItsMeaning() {
        for help in [BoBatchCommand.helpMessage(for: RefreshCommand.self, columns: 100), BoBatchCommand.helpMessage(for: CancelCommand.self, columns: 100)] {
            let flat = Self.flat(help)
            for status in BoBatch.ExitStatus.allCases {
                #expect(flat.contains("\(status.rawValue) \(status.followUpMeaning)"), "code \(status.rawValue) missing from:\n\(help)")
            }
        }
    }

    /// Whitespace collapsed, so line wrapping (ours or ArgumentParser's) does not matter.
    static func flat(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    @Test func bothHelpTextsListEveryCodeWithItsMeaning() {
        for help in [BoBatchCommand.helpMessage(columns: 100), BoBatchCommand.helpMessage(for: SubmitCommand.self, columns: 100)] {
            let flat = Self.flat(help)
            #expect(flat.contains("EXIT CODES"))
            for status in BoBatch.ExitStatus.allCases {
                #expect(flat.contains("\(status.rawValue) \(status.meaning)"), "code \(status.rawValue) missing from:\n\(help)")
            }
        }
    }

    @Test func theHelpTableIsWrappedUnderItsMeanings() {
        let table = ExitCodeHelp.render(width: 78)
        let lines = table.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 78 }, "\(table)")
        #expect(lines.first == "  0   every domain placed (accepted or already) at every provider, or nothing")
        #expect(lines.contains("  75  another bo-batch run holds the lock on the state directory"))
        // Continuation lines sit under the meaning, never where a code would be.
        #expect(lines.filter { !$0.hasPrefix("      ") }.count == BoBatch.ExitStatus.allCases.count)
    }
}

/// Failures with no summary to show end with a fixed code, never ArgumentParser's 1 ("finished").
@Suite struct SubmitFailureExitTests {
    @Test func aStepThatFailsOnTheLedgerEndsWith3() throws {
        struct DiskFull: Error {}
        #expect(throws: ExitCode(BoBatch.ExitStatus.incomplete.rawValue)) { try SubmitCommand.orStopped { () throws -> Int in throw DiskFull() } }
        #expect(try SubmitCommand.orStopped { 7 } == 7)
    }
}
