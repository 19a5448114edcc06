import BoBatchSandbox
import Foundation
import Testing

/// The real binary against a real sandbox on loopback, through libcurl, with the real SQLite ledger.
@Suite(.serialized) struct SubmitDynadotEndToEndTests {
    func dynadotEnvironment(_ server: SandboxServer, state: String, key: String = SandboxCredentials.dynadotKey) -> [String: String] {
        var env = BinaryRunner.baseEnvironment(state: state)
        env["DYNADOT_API_KEY"] = key
        env["DYNADOT_ENDPOINT"] = server.endpoint(for: "dynadot")
        env["DYNADOT_RATE"] = "60000"
        return env
    }

    func outcome(_ dir: String, _ domain: String, _ provider: String = "dynadot") throws -> [String: Any] {
        let file = try Scratch.json("\(dir)/\(domain).json")
        return (file["outcomes"] as? [String: Any])?[provider] as? [String: Any] ?? [:]
    }

    @Test func aFailingHundredDomainRequestEndsWithEveryDomainsOwnVerdict() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        // 100 domains in one request; three are registered ("taken…"), which fails the request as a whole.
        var names = (0..<100).map { "drop\($0).com" }
        names[10] = "taken-one.com"
        names[55] = "taken-two.net"
        names[99] = "livestream.org"
        Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
        let env = dynadotEnvironment(server, state: "\(dir)/state")
        let result = try await BinaryRunner.run(["submit", "--quiet", "--out", "\(dir)/out", "list.txt"], environment: env, directory: dir)
        #expect(result.status == 1, "stderr: \(result.stderr)")
        for name in names {
            let o = try outcome("\(dir)/out", name)
            let expected = name.hasPrefix("taken") || name.hasPrefix("live") ? "rejected" : "accepted"
            #expect(o["state"] as? String == expected, "\(name): \(o)")
        }
        let stats = server.stats()
        #expect(stats.totalCreates("dynadot") == 97)
        #expect(stats.creates["dynadot"]?.values.allSatisfy { $0 == 1 } == true)
        #expect(!result.stderr.contains(SandboxCredentials.dynadotKey))

        // Rerun: nothing is sent again and the exit code is the same.
        let before = stats.requests["dynadot"]?.values.reduce(0, +) ?? 0
        let again = try await BinaryRunner.run(["submit", "--quiet", "--out", "\(dir)/out", "list.txt"], environment: env, directory: dir)
        #expect(again.status == 1)
        #expect((server.stats().requests["dynadot"]?.values.reduce(0, +) ?? 0) == before)
        let summary = try Scratch.json("\(dir)/out/summary.json")
        #expect(summary["requests_this_invocation"] as? Int == 0)
        #expect(summary["exit_code"] as? Int == 1)
    }

    @Test func aBadKeyHaltsTheLaneWithExit4AndNeverPrintsTheKey() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        Scratch.write((0..<250).map { "name\($0).com" }.joined(separator: "\n"), to: "\(dir)/list.txt")
        let secret = "not-the-right-key-7f3a"
        let result = try await BinaryRunner.run(
            ["submit", "--quiet", "--out", "\(dir)/out", "list.txt"], environment: dynadotEnvironment(server, state: "\(dir)/state", key: secret), directory: dir)
        #expect(result.status == 4, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("DYNADOT_API_KEY"))
        #expect(!result.stderr.contains(secret))
        // It stopped at the first answer instead of marching through the list.
        #expect(server.stats().requestCount("dynadot", "add_backorder_request") == 1)
        let o = try outcome("\(dir)/out", "name200.com")
        #expect(o["state"] as? String == "failed")
        for file in try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out") {
            let text = try String(contentsOfFile: "\(dir)/out/\(file)", encoding: .utf8)
            #expect(!text.contains(secret), "\(file) leaks the key")
        }
        let ledger = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/state/ledger.sqlite"))
        #expect(ledger.range(of: Data(secret.utf8)) == nil)
    }

    @Test func theSampleListRunsOnTheBuiltInSandboxAndARerunSendsNothing() async throws {
        let dir = Scratch.directory()
        let sample = BinaryRunner.packageRoot.appendingPathComponent("samples/drops-2025-10-27.txt").path
        let env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        let first = try await BinaryRunner.run(["submit", "--sandbox", "--provider", "dynadot", "--quiet", sample], environment: env, directory: dir)
        #expect(first.status == 1, "stderr: \(first.stderr)")
        let out = "\(dir)/results/sandbox/drops-2025-10-27"
        let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".json") && $0 != "summary.json" }
        let summary = try Scratch.json("\(out)/summary.json")
        let input = try #require(summary["input"] as? [String: Any])
        #expect(files.count == input["domains"] as? Int)
        #expect(files.count > 290)
        #expect((input["invalid"] as? Int ?? 0) >= 5)
        #expect(files.contains("xn--bcher-kva.de.json"))
        let invalid = try String(contentsOfFile: "\(out)/invalid.tsv", encoding: .utf8)
        #expect(invalid.contains("exa mple.com"))

        let status = try await BinaryRunner.run(["status", "--sandbox", "drops-2025-10-27"], environment: env, directory: dir)
        #expect(status.status == 0)
        #expect(status.stdout.contains("dynadot  \(files.count - 4) accepted, 4 rejected"), "\(status.stdout)")
        #expect(status.stdout.contains("exit 1"))

        let second = try await BinaryRunner.run(["submit", "--sandbox", "--provider", "dynadot", sample], environment: env, directory: dir)
        #expect(second.status == 1)
        let again = try Scratch.json("\(out)/summary.json")
        #expect(again["requests_this_invocation"] as? Int == 0)
        #expect(second.stderr.contains("0 creates"))
    }

    @Test func noCredentialsAndNoSandboxIsAUsageErrorThatSaysWhatToSet() async throws {
        let dir = Scratch.directory()
        Scratch.write("a.com\n", to: "\(dir)/list.txt")
        let result = try await BinaryRunner.run(["submit", "list.txt"], environment: BinaryRunner.baseEnvironment(state: "\(dir)/state"), directory: dir)
        #expect(result.status == 2)
        #expect(result.stderr.contains("DYNADOT_API_KEY"))
        let unknownFlag = try await BinaryRunner.run(["submit", "--bogus", "list.txt"], environment: BinaryRunner.baseEnvironment(state: "\(dir)/state"), directory: dir)
        #expect(unknownFlag.status == 2)
    }

    @Test func aSecondRunOnTheSameStateExits75NamingTheHolder() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        Scratch.write("a.com\n", to: "\(dir)/list.txt")
        // Hold the lock the way a running bo-batch does: flock on STATE/lock with our pid inside.
        try FileManager.default.createDirectory(atPath: "\(dir)/state", withIntermediateDirectories: true)
        let fd = open("\(dir)/state/lock", O_RDWR | O_CREAT, 0o600)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        _ = "\(getpid())\n".withCString { write(fd, $0, strlen($0)) }
        defer { close(fd) }
        let result = try await BinaryRunner.run(["submit", "--quiet", "list.txt"], environment: dynadotEnvironment(server, state: "\(dir)/state"), directory: dir)
        #expect(result.status == 75)
        #expect(result.stderr.contains("\(getpid())"))
        #expect(server.stats().requestCount("dynadot", "add_backorder_request") == 0)
    }

    @Test func unreadableInputsAreReportedAndTheRestOfTheRunGoesOn() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        Scratch.write("good.com\nbad domain.com\n", to: "\(dir)/list.txt")
        try FileManager.default.createDirectory(atPath: "\(dir)/adir", withIntermediateDirectories: true)
        let result = try await BinaryRunner.run(
            ["submit", "--quiet", "--out", "\(dir)/out", "list.txt", "adir", "missing.txt"], environment: dynadotEnvironment(server, state: "\(dir)/state"), directory: dir)
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("adir"))
        #expect(result.stderr.contains("missing.txt"))
        #expect(try outcome("\(dir)/out", "good.com")["state"] as? String == "accepted")
    }

    /// A night without a list is not a night with rejects: no run, no results, nothing sent, exit 2 with the path.
    @Test func aListThatDidNotArriveIsAUsageErrorThatRecordsNothing() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        let env = dynadotEnvironment(server, state: "\(dir)/state")
        let none = try await BinaryRunner.run(["submit", "--quiet", "--out", "\(dir)/out", "drops-2025-10-27.txt"], environment: env, directory: dir)
        #expect(none.status == 2, "stderr: \(none.stderr)")
        #expect(none.stderr.contains("drops-2025-10-27.txt: no such file"))
        #expect(none.stderr.contains("nothing was recorded or sent"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/state/ledger.sqlite"), "no empty run left behind")

        // One list of two missing: today's behaviour (exit 1, the rest goes on), or 2 and nothing with --require-all-inputs.
        Scratch.write("good.com\n", to: "\(dir)/list.txt")
        let strict = try await BinaryRunner.run(
            ["submit", "--quiet", "--require-all-inputs", "--out", "\(dir)/out", "list.txt", "missing.txt"], environment: env, directory: dir)
        #expect(strict.status == 2, "stderr: \(strict.stderr)")
        #expect(strict.stderr.contains("1 of the 2 inputs cannot be read (--require-all-inputs)"))
        #expect(server.stats().requestCount("dynadot", "add_backorder_request") == 0)
        let lenient = try await BinaryRunner.run(["submit", "--quiet", "--out", "\(dir)/out", "list.txt", "missing.txt"], environment: env, directory: dir)
        #expect(lenient.status == 1, "stderr: \(lenient.stderr)")
        #expect(try outcome("\(dir)/out", "good.com")["state"] as? String == "accepted")
    }
}
