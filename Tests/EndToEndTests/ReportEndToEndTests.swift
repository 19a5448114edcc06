import Foundation
import Testing

/// report.html through the real binary: `submit` writes it beside summary.json, `report` writes it again, and a
/// real browser (Debian's chromium, headless) renders it without console errors, with its charts.
@Suite(.serialized) struct ReportEndToEndTests {
    static let browser: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let noBrowser = "no headless browser: install Debian's chromium (as root: apt-get install chromium; bin/test does it) to render report.html"

    /// A faulted sandbox run: lost and broken answers after the create landed leave work for lookups, and taken
    /// names are rejected, so every chart has something to draw and the problem table has rows. Small and fast
    /// (refusals ask for no wait, `Retry-After: 0`): the whole flaky sample takes minutes of provider waits.
    static func faultedRun() async throws -> (results: String, state: String, work: String) {
        let work = Scratch.directory()
        let state = (work as NSString).appendingPathComponent("state")
        let results = (work as NSString).appendingPathComponent("results")
        let names = (0..<40).map { "report-test-\($0).com" } + ["taken-one.com", "taken-two.net"]
        Scratch.write(names.joined(separator: "\n") + "\nnot a domain\n", to: "\(work)/night.txt")
        Scratch.write("""
            {"description": "report test", "providers": {"*": {"latency": {"minMs": 1, "maxMs": 40}, "dropAfterProcessing": 0.1, "malformedAfterProcessing": 0.1, "tooManyRequests": 0.1, "retryAfterSeconds": 0}}}
            """, to: "\(work)/faults.json")
        let run = try await BinaryRunner.run(
            ["submit", "--sandbox", "--sandbox-faults", "\(work)/faults.json", "--out", results, "--run", "night", "\(work)/night.txt"],
            environment: BinaryRunner.baseEnvironment(state: state), directory: work)
        #expect([0, 1].contains(run.status), "\(run.stderr)")
        return (results, state, work)
    }

    @Test func submitWritesTheReportAndReportRewritesIt() async throws {
        let (results, state, work) = try await Self.faultedRun()
        let path = (results as NSString).appendingPathComponent("report.html")
        let first = try String(contentsOfFile: path, encoding: .utf8)
        #expect(first.contains("id=\"chart-outcomes\""))
        #expect(first.contains("exit "))
        // The refusals' waits were recorded on their intents, and the failure chart has its table of them.
        #expect(first.contains("<th>refused requests</th>"), "no waits table in the report of a run with refusals")
        try FileManager.default.removeItem(atPath: path)
        let again = try await BinaryRunner.run(
            ["report", "night", "--sandbox", "--out", results], environment: BinaryRunner.baseEnvironment(state: state), directory: work)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == path)
        let second = try String(contentsOfFile: path, encoding: .utf8)
        #expect(second.contains("id=\"chart-outcomes\""))
        // summary.json read back: the rewritten report still says how the run exited.
        #expect(second.contains("exit "))
        let missing = try await BinaryRunner.run(["report", "no-such-run", "--sandbox"], environment: BinaryRunner.baseEnvironment(state: state), directory: work)
        #expect(missing.status == 2)
    }

    @Test(.enabled(if: ReportEndToEndTests.browser != nil, Comment(rawValue: ReportEndToEndTests.noBrowser))) func browserRendersTheReport() async throws {
        let (results, _, work) = try await Self.faultedRun()
        let page = URL(fileURLWithPath: (results as NSString).appendingPathComponent("report.html")).absoluteString
        let shots = BinaryRunner.packageRoot.appendingPathComponent(".build/screenshots").path
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0",
                      "--user-data-dir=\(work)/chromium-profile"]
        let env = ["PATH": "/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8"]
        let dom = try await Self.exec("/usr/bin/timeout", ["120", Self.browser!] + common + ["--dump-dom", page], env: env)
        #expect(dom.status == 0, "\(dom.stderr)")
        for id in ["chart-outcomes", "chart-throughput-requests", "chart-throughput-domains", "chart-failures"] {
            #expect(dom.stdout.contains("<svg id=\"\(id)\""), "chart \(id) missing from the rendered DOM")
        }
        #expect(dom.stdout.contains("<rect"))
        // The search box is hidden without JavaScript and shown by the page's script: it ran.
        #expect(dom.stdout.contains("display: inline-block"))
        let consoleErrors = dom.stderr.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
        #expect(consoleErrors.isEmpty, "console: \(consoleErrors.joined(separator: "\n"))")
        let png = "\(shots)/report.png"
        try? FileManager.default.removeItem(atPath: png)
        let shot = try await Self.exec("/usr/bin/timeout", ["120", Self.browser!] + common + ["--hide-scrollbars", "--window-size=1200,3000", "--screenshot=\(png)", page], env: env)
        #expect(shot.status == 0, "\(shot.stderr)")
        #expect(FileManager.default.fileExists(atPath: png))
    }

    static func exec(_ tool: String, _ arguments: [String], env: [String: String]) async throws -> BinaryRunner.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        async let o = offPool { out.fileHandleForReading.readDataToEndOfFile() }
        async let e = offPool { err.fileHandleForReading.readDataToEndOfFile() }
        let (od, ed) = await (o, e)
        await offPool { process.waitUntilExit() }
        return BinaryRunner.Result(status: process.terminationStatus, stdout: String(decoding: od, as: UTF8.self), stderr: String(decoding: ed, as: UTF8.self))
    }
}
