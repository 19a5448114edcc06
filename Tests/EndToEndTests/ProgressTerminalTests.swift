import BoBatchSandbox
import Foundation
import Testing

/// The progress display as a person sees it: the real binary in a tmux pane (a pseudo-terminal, 110 columns),
/// the screen captured as text while the lanes work and again after the run. The captures are kept as
/// screenshots in `.build/screenshots/`.
@Suite struct ProgressTerminalTests {
    struct TmuxError: Error { var message: String }

    static let screenshots = BinaryRunner.packageRoot.appendingPathComponent(".build/screenshots").path

    func tmux(_ socket: String, _ arguments: [String]) throws -> String {
        let process = Process()
        // A tmux server started straight from Foundation's Process loses its pane at once (its pty reads EIO);
        // started through Python's subprocess it lives. Only the command that starts the server goes that way,
        // and it must not hand the daemon our pipe either (it would hold it open forever).
        let startsServer = arguments.first == "new-session"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (startsServer
            ? ["python3", "-c", "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode)"]
            : []) + ["/usr/bin/tmux", "-L", socket] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if process.terminationStatus != 0 { throw TmuxError(message: "tmux \(arguments.joined(separator: " ")): \(text)") }
        return text
    }

    @Test(.timeLimit(.minutes(1))) func aTerminalGetsOneRedrawnLinePerLaneWithBarRateETAAndTheWaitReason() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") else {
            Issue.record("tmux is not installed (Debian: apt-get install tmux); the terminal display was not checked")
            return
        }
        // Slow answers keep the lanes busy for a few seconds; Yay refuses now and then, so its lane waits.
        let plan = FaultPlan(providers: [
            "dynadot": ProviderFaults(latency: .fixed(ms: 400)),
            "yay": ProviderFaults(latency: .fixed(ms: 150), refuse: 0.25),
        ])
        let server = try await SandboxServer.start(SandboxOptions(faults: plan, seed: 3))
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        Scratch.write((0..<300).map { "screen\($0)-drop.com" }.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
        var env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        env.merge(SandboxCredentials.environment(for: server)) { _, new in new }
        env["YAY_THREADS"] = "4"
        env["YAY_RATE"] = "600000"
        env["DYNADOT_RATE"] = "600000"
        env["TERM"] = "xterm"
        let exports = env.map { "export \($0.key)='\($0.value)'" }.sorted().joined(separator: "\n")
        Scratch.write("""
            \(exports)
            cd '\(dir)'
            '\(BinaryRunner.binary)' submit --provider dynadot,yay --out out list.txt
            echo "EXIT=$?"
            sleep 60
            """, to: "\(dir)/run.sh")
        let socket = "bo-batch-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { _ = try? tmux(socket, ["kill-server"]) }
        _ = try tmux(socket, ["new-session", "-d", "-s", "run", "-x", "110", "-y", "20", "sh \(dir)/run.sh"])

        // While it runs: two lane lines with bars, counts, rates; Yay's says what it waits for.
        var live = ""
        let sawBlock = await eventually(within: 40, every: 100) {
            do { live = try tmux(socket, ["capture-pane", "-p", "-t", "run"]) } catch { live = "\(error)" }
            let lines = live.split(separator: "\n")
            return lines.contains { $0.hasPrefix("dynadot  [") && $0.contains("/300") && $0.contains("/s") }
                && lines.contains { $0.hasPrefix("yay      [") && ($0.contains("waiting") || $0.contains("slowed to")) }
        }
        try FileManager.default.createDirectory(atPath: Self.screenshots, withIntermediateDirectories: true)
        try live.write(toFile: "\(Self.screenshots)/progress-live.txt", atomically: true, encoding: .utf8)
        #expect(sawBlock, "no live block seen; last screen:\n\(live)")
        let laneLines = live.split(separator: "\n").filter { $0.hasPrefix("dynadot  [") || $0.hasPrefix("yay      [") }
        #expect(laneLines.count == 2, "each lane has exactly one line, redrawn in place:\n\(live)")
        #expect(laneLines.allSatisfy { $0.count <= 110 }, "no line wider than the terminal")

        var final = ""
        let ended = await eventually(within: 40, every: 100) {
            final = (try? tmux(socket, ["capture-pane", "-p", "-t", "run"])) ?? ""
            return final.contains("EXIT=")
        }
        try final.write(toFile: "\(Self.screenshots)/progress-final.txt", atomically: true, encoding: .utf8)
        #expect(ended, "the run did not end:\n\(final)")
        #expect(final.contains("EXIT=0"), "\(final)")
        // The live block is gone; the summary stands in its place.
        #expect(!final.split(separator: "\n").contains { $0.hasPrefix("dynadot  [") || $0.hasPrefix("yay      [") }, "\(final)")
        #expect(final.contains("exit 0: every domain placed"))
    }
}
