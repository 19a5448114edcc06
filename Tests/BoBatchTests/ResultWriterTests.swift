@testable import BoBatch
import Foundation
import Testing

/// Valid names of a given length in octets: labels of at most 63, ending in `.com`.
enum LongNames {
    static func name(octets: Int, first: Character = "a", last: Character = "z") -> String {
        precondition(octets >= 5 && octets <= 253)
        var labels: [String] = []
        var left = octets - 4  // ".com"
        var letter = first
        while left > 0 {
            // A label, and a dot before the next one unless this one ends the name.
            let size = left > 63 ? min(63, left - 2) : left
            labels.append(String(repeating: letter, count: size))
            left -= size + (left > size ? 1 : 0)
            letter = letter == first ? "b" : letter
        }
        labels[labels.count - 1] = String(labels[labels.count - 1].dropLast()) + String(last)
        let name = labels.joined(separator: ".") + ".com"
        precondition(name.utf8.count == octets, "\(name.utf8.count) != \(octets)")
        return name
    }
}

@Suite struct ResultFileNameTests {
    @Test func namesThatFitKeepTheirPlainFileName() {
        #expect(ResultWriter.fileName(for: "example.com") == "example.com.json")
        #expect(ResultWriter.fileName(for: "xn--bcher-kva.de") == "xn--bcher-kva.de.json")
        let longest = LongNames.name(octets: 195)
        #expect(ResultWriter.fileName(for: longest) == longest + ".json")
        #expect(ResultWriter.fileName(for: longest).utf8.count == ResultWriter.maxFileNameBytes)
    }

    @Test func aLongerNameGetsAShortenedNameThatFitsNameMax() throws {
        let name = LongNames.name(octets: 253)
        #expect(try DomainName(normalizing: name).ascii == name, "the test name must be a valid domain name")
        let file = ResultWriter.fileName(for: name)
        #expect(file.utf8.count <= 255)
        #expect(file.utf8.count == ResultWriter.maxFileNameBytes)
        #expect(file.hasSuffix(".json"))
        // The documented rule: the first 178 octets, "_", 16 hex of SHA-256 of the whole name, ".json" —
        // the same as `printf %s NAME | sha256sum | cut -c1-16`.
        let fixed = String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 63) + "." + String(repeating: "c", count: 63) + "."
            + String(repeating: "d", count: 57) + ".com"
        #expect(fixed.utf8.count == 253)
        #expect(ResultWriter.fileName(for: fixed) == String(fixed.prefix(178)) + "_6a20cd7b53f99f17.json")
        for octets in 196...253 {
            let n = LongNames.name(octets: octets)
            let f = ResultWriter.fileName(for: n)
            #expect(f.utf8.count == ResultWriter.maxFileNameBytes, "\(octets)")
            #expect(f.hasPrefix(String(n.prefix(178))) && f.contains("_"), "\(octets)")
        }
    }

    @Test func theNameIsTheSameEveryTimeAndDiffersForNamesSharingAPrefix() {
        let one = LongNames.name(octets: 253, last: "x")
        let two = LongNames.name(octets: 253, last: "y")
        // The same first 248 octets (far more than the 178 kept); only the letter before ".com" differs.
        #expect(one != two && one.utf8.prefix(248).elementsEqual(two.utf8.prefix(248)))
        #expect(ResultWriter.fileName(for: one) == ResultWriter.fileName(for: one))
        #expect(ResultWriter.fileName(for: one) != ResultWriter.fileName(for: two))
        // Also when only the length differs past the kept prefix.
        #expect(ResultWriter.fileName(for: LongNames.name(octets: 240)) != ResultWriter.fileName(for: LongNames.name(octets: 241)))
    }
}

@Suite struct ResultWriterTests {
    let run = "writer-test"

    /// A job over `lines` with one in-memory provider, run to its end.
    func runJob(_ lines: [String], out: String, ledgerDirectory: String) async throws -> RunSummary {
        let dir = TestPaths.temporaryDirectory("writer-input")
        let input = (dir as NSString).appendingPathComponent("list.txt")
        FileManager.default.createFile(atPath: input, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
        let provider = FakeProvider(maxBatch: 100)
        let ledger = try Ledger(directory: ledgerDirectory)
        let plan = SubmitPlan(
            run: run, inputs: [input], inputOptions: InputOptions(), resultsDirectory: out, rememberDays: 30,
            lanes: [LaneSetup(provider: provider, settings: LaneSettings(pacing: Pacing(concurrency: 1, requestsPerMinute: 6000), maxAttempts: 5))])
        let job = try SubmitJob(plan: plan, ledger: ledger, clock: TestClock())
        let summary = try job.ingest { _ in }
        let reports = try await job.runLanes()
        return try job.finish(input: summary, reports: reports)
    }

    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    func hiddenFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
    }

    @Test func aLongNameIsWrittenUnderItsShortenedNameWithTheWholeNameInside() async throws {
        let out = TestPaths.temporaryDirectory("writer-out")
        let long = LongNames.name(octets: 253)
        let summary = try await runJob(["a.com", long, "b.com"], out: out, ledgerDirectory: TestPaths.temporaryDirectory())
        #expect(summary.exitCode == ExitStatus.success.rawValue)
        #expect(summary.resultFileErrors == 0)
        let file = try json("\(out)/\(ResultWriter.fileName(for: long))")
        #expect(file["domain"] as? String == long)
        #expect(((file["outcomes"] as? [String: Any])?["dynadot"] as? [String: Any])?["state"] as? String == "accepted")
        for name in ["a.com.json", "b.com.json", "summary.json", "invalid.tsv"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(name)"), "\(name)")
        }
        #expect(try hiddenFiles(out).isEmpty, "temporary files left behind")
    }

    @Test func oneFileThatCannotBeWrittenIsReportedAndEverythingElseIsWritten() async throws {
        let out = TestPaths.temporaryDirectory("writer-out")
        let state = TestPaths.temporaryDirectory()
        // A directory where b.com's file belongs: the rename onto it fails (as root too, unlike permissions).
        try FileManager.default.createDirectory(atPath: "\(out)/b.com.json", withIntermediateDirectories: false)
        let long = LongNames.name(octets: 250)
        let domains = ["a.com", "b.com", "c.com", long] + (0..<600).map { "bulk\($0).net" }
        let summary = try await runJob(domains + ["not a domain"], out: out, ledgerDirectory: state)

        // Every other file is there, and so are invalid.tsv and summary.json.
        for name in domains where name != "b.com" {
            let file = try json("\(out)/\(ResultWriter.fileName(for: name))")
            #expect(file["domain"] as? String == name)
        }
        let invalid = try String(contentsOfFile: "\(out)/invalid.tsv", encoding: .utf8)
        #expect(invalid.contains("not a domain"))
        // The failure is in the summary, with the file, the domain and the system's reason.
        #expect(summary.resultFileErrors == 1)
        let failure = try #require(summary.unwrittenResultFiles.first)
        #expect(failure.file == "\(out)/b.com.json")
        #expect(failure.domain == "b.com")
        #expect(failure.error == String(cString: strerror(EISDIR)))
        #expect(summary.exitCode == ExitStatus.resultFilesUnwritten.rawValue)
        let written = try json("\(out)/summary.json")
        #expect(written["result_file_errors"] as? Int == 1)
        let listed = try #require((written["unwritten_result_files"] as? [[String: Any]])?.first)
        #expect(listed["file"] as? String == "\(out)/b.com.json")
        #expect(listed["domain"] as? String == "b.com")
        #expect(written["exit_code"] as? Int == 5)
        #expect(try hiddenFiles(out).isEmpty, "temporary files left behind")

        // Once the way is clear, the next run writes the missing file and ends as any other run (1: invalid input).
        try FileManager.default.removeItem(atPath: "\(out)/b.com.json")
        let again = try await runJob(domains + ["not a domain"], out: out, ledgerDirectory: state)
        #expect(again.resultFileErrors == 0)
        #expect(again.exitCode == ExitStatus.someRejected.rawValue)
        #expect(try json("\(out)/b.com.json")["domain"] as? String == "b.com")
    }

    @Test func unwritableInvalidAndSummaryFilesAreReportedNotThrown() async throws {
        let out = TestPaths.temporaryDirectory("writer-out")
        try FileManager.default.createDirectory(atPath: "\(out)/invalid.tsv", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: "\(out)/summary.json", withIntermediateDirectories: false)
        let summary = try await runJob(["a.com", "b.com"], out: out, ledgerDirectory: TestPaths.temporaryDirectory())
        #expect(summary.resultFileErrors == 2)
        #expect(Set(summary.unwrittenResultFiles.map { ($0.file as NSString).lastPathComponent }) == ["invalid.tsv", "summary.json"])
        #expect(summary.unwrittenResultFiles.allSatisfy { $0.domain == nil })
        #expect(summary.exitCode == ExitStatus.resultFilesUnwritten.rawValue)
        #expect(try json("\(out)/a.com.json")["domain"] as? String == "a.com")
        #expect(try json("\(out)/b.com.json")["domain"] as? String == "b.com")
    }

    @Test func aFileUnderItsOldUnshortenedNameIsReplacedByTheShortenedOne() async throws {
        let out = TestPaths.temporaryDirectory("writer-out")
        let name = LongNames.name(octets: 220)
        FileManager.default.createFile(atPath: "\(out)/\(name).json", contents: Data("{}".utf8))
        FileManager.default.createFile(atPath: "\(out)/keep.com.json", contents: Data("{}".utf8))
        _ = try await runJob([name], out: out, ledgerDirectory: TestPaths.temporaryDirectory())
        #expect(!FileManager.default.fileExists(atPath: "\(out)/\(name).json"))
        #expect(try json("\(out)/\(ResultWriter.fileName(for: name))")["domain"] as? String == name)
        #expect(FileManager.default.fileExists(atPath: "\(out)/keep.com.json"))
    }

    /// The periodic flush writes only the domains that moved, and each file once; the final flush writes the rest.
    @Test func thePeriodicFlushLeavesWaitingDomainsToTheFinalOneAndNoFileIsWrittenTwice() throws {
        let out = TestPaths.temporaryDirectory("writer-out")
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        let names = (0..<2_500).map { "d\($0).com" }
        try ledger.openRun(run)
        try ledger.ingest(run: run, names.map { IngestEntry(domain: DomainName(validatedASCII: $0), input: $0, source: "l:1", attributes: DomainAttributes()) })
        try ledger.preparePairs(run: run, providers: [.dynadot, .yay], rememberSince: .distantPast)
        let writer = try ResultWriter(directory: out, ledger: ledger, run: run)

        // Nothing moved yet: nothing to write.
        #expect(try writer.flush(maxFiles: 20_000, movedOnly: true) == FlushReport())
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)

        // 1,200 domains (more than a page) get an answer from one provider: those files, once.
        let moved = Array(names.shuffled().prefix(1_200))
        try ledger.record(run: run, provider: .dynadot, moved.map { PairUpdate(domain: DomainName(validatedASCII: $0), state: .accepted, message: "ok") })
        #expect(try writer.flush(maxFiles: 20_000, movedOnly: true).written == 1_200)
        #expect(try writer.flush(maxFiles: 20_000, movedOnly: true).written == 0)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out)) == Set(moved.map { "\($0).json" }))
        let one = try json("\(out)/\(moved[0]).json")
        #expect(((one["outcomes"] as? [String: Any])?["dynadot"] as? [String: Any])?["state"] as? String == "accepted")
        #expect(((one["outcomes"] as? [String: Any])?["yay"] as? [String: Any])?["state"] as? String == "unknown")

        // A domain that moves again is due again; `maxFiles` bounds a flush and the next one goes on.
        try ledger.record(run: run, provider: .yay, [PairUpdate(domain: DomainName(validatedASCII: moved[0]), state: .rejected, message: "no")])
        #expect(try writer.flush(maxFiles: 20_000, movedOnly: true).written == 1)
        #expect(((try json("\(out)/\(moved[0]).json")["outcomes"] as? [String: Any])?["yay"] as? [String: Any])?["state"] as? String == "rejected")

        // The final flush writes every domain left, waiting or not, in pages, and then there is nothing left.
        #expect(try writer.flush(maxFiles: 1_000).written == 1_000)
        #expect(try writer.flush().written == 300)
        #expect(try writer.flush().written == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).count == names.count)
        #expect(try hiddenFiles(out).isEmpty, "temporary files left behind")
    }

    /// A results directory deleted during a run: each file reports the system's reason, nothing throws, and the
    /// files stay due for the next flush.
    @Test func aResultsDirectoryThatVanishedIsReportedPerFileAndTheFilesStayDue() throws {
        let out = TestPaths.temporaryDirectory("writer-out")
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run)
        try ledger.ingest(run: run, ["a.com", "b.com"].map { IngestEntry(domain: DomainName(validatedASCII: $0), input: $0, source: "l:1", attributes: DomainAttributes()) })
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let writer = try ResultWriter(directory: out, ledger: ledger, run: run)
        try FileManager.default.removeItem(atPath: out)
        let report = try writer.flush()
        #expect(report.written == 0 && report.failed == 2)
        #expect(report.failures.map(\.domain) == ["a.com", "b.com"])
        #expect(report.failures.first?.file == "\(out)/a.com.json")
        #expect(report.failures.first?.error.contains(String(cString: strerror(ENOENT))) == true)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        #expect(try writer.flush().written == 2)
        #expect(try json("\(out)/b.com.json")["domain"] as? String == "b.com")
    }

    @Test func temporaryFilesOfGoneProcessesAreRemovedInTheNewAndTheOldForm() throws {
        let out = TestPaths.temporaryDirectory("writer-out")
        // A pid no process has now.
        var gone: pid_t = 4_000_000
        while kill(gone, 0) == 0 || errno != ESRCH { gone -= 1 }
        let stale = [".bo-batch.\(gone).12345.tmp", ".example.com.json.\(gone).7.tmp"]
        let kept = [".bo-batch.\(getpid()).1.tmp", "example.com.json"]
        for name in stale + kept { FileManager.default.createFile(atPath: "\(out)/\(name)", contents: Data()) }
        ResultWriter.removeStaleTemporaryFiles(in: out)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        #expect(left == Set(kept))
    }
}
