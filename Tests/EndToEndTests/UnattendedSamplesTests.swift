import Foundation
import Testing

/// samples/unattended: the systemd pair, the cron lines and the logrotate snippet a user copies as they are.
@Suite struct UnattendedSamplesTests {
    static let folder = BinaryRunner.packageRoot.appendingPathComponent("samples/unattended").path

    func run(_ tool: String, _ arguments: [String], directory: String = folder) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// systemd's own checker, when the machine has it: any warning (a misspelt key, a bad value) fails.
    @Test func theSystemdUnitsPassSystemdsOwnCheck() throws {
        let tool = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            Issue.record("systemd-analyze is not installed (Debian: apt-get install systemd); the units were not checked")
            return
        }
        let result = try run(tool, ["verify", "--man=no", "bo-batch-nightly.service", "bo-batch-nightly.timer"])
        #expect(result.status == 0 && result.output.isEmpty, "\(result.output)")
        let service = try String(contentsOfFile: "\(Self.folder)/bo-batch-nightly.service", encoding: .utf8)
        #expect(service.contains("Type=oneshot"))
        // Longer than bo-batch's 60 s wait for answers in flight after SIGTERM, plus the summary.
        #expect(service.contains("TimeoutStopSec=120"))
        #expect(service.contains("LoadCredential=") && service.contains("_FILE=%d/"))
    }

    /// Each cron line: five schedule fields, every % escaped (cron makes a bare % a newline), a command sh parses,
    /// and bo-batch options the real binary accepts.
    @Test func theCronLinesParseAndUseOptionsThatExist() async throws {
        let text = try String(contentsOfFile: "\(Self.folder)/crontab-healthcheck", encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init).filter { $0.first?.isNumber == true }
        #expect(lines.count == 2)
        for line in lines {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            #expect(fields.count == 6, "\(line)")
            let command = String(fields[5])
            #expect(!command.replacingOccurrences(of: "\\%", with: "").contains("%"), "unescaped % in: \(command)")
            let parsed = try run("/bin/sh", ["-n", "-c", command.replacingOccurrences(of: "\\%", with: "%")])
            #expect(parsed.status == 0, "\(parsed.output)")
        }
        // The options the samples pass, on a list that is not there: parsed, then exit 2 for the missing list.
        let dir = Scratch.directory()
        let result = try await BinaryRunner.run(
            ["submit", "--quiet", "--log-format", "json", "--log-file", "\(dir)/bo-batch.log", "drops-2025-10-27.txt"],
            environment: BinaryRunner.baseEnvironment(state: "\(dir)/state"), directory: dir)
        #expect(result.status == 2)
        #expect(result.stderr.contains("nothing was recorded or sent"), "\(result.stderr)")
    }

    @Test func logrotateCreatesTheFileAsPrivateAsBoBatchDoes() throws {
        let text = try String(contentsOfFile: "\(Self.folder)/logrotate-bo-batch", encoding: .utf8)
        #expect(text.contains("/var/log/bo-batch/*.log {"))
        #expect(text.contains("create 0600"))
        let directives = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        #expect(!directives.contains("copytruncate"), "bo-batch reopens the file at every start; copytruncate could lose lines")
    }
}
