import BoBatchSandbox
import Foundation
import Testing

extension FaultInjectionEndToEndTests {
    /// The real binary: the process's exit code, the summary it prints, summary.json and `bo-batch status RUN`
    /// afterwards all say the same code.
    @Suite(.serialized) struct ExitAgreementEndToEndTests {
        /// The code of the last line "exit N: …" (the printed summary) or "as of now: exit N: …" (status).
        static func code(after prefix: String, in text: String) -> Int? {
            text.components(separatedBy: "\n").reversed().lazy.compactMap { line -> Int? in
                guard line.hasPrefix(prefix) else { return nil }
                return Int(line.dropFirst(prefix.count).prefix { $0.isNumber })
            }.first
        }

        /// Runs `submit`, then `status`, and checks that every place tells `expected`.
        @discardableResult
        func expectAgreement(
            _ arguments: [String], env: [String: String], dir: String, expected: Int32,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> BinaryRunner.Result {
            let result = try await BinaryRunner.run(arguments, environment: env, directory: dir)
            try await expectAgreement(exit: result.status, stderr: result.stderr, env: env, dir: dir, expected: expected, sourceLocation: sourceLocation)
            return result
        }

        /// The process exited with `exit` and printed `stderr`: that, summary.json and `status` all say `expected`.
        func expectAgreement(
            exit: Int32, stderr: String, env: [String: String], dir: String, run: String = "list", expected: Int32,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            #expect(exit == expected, "stderr: \(stderr)", sourceLocation: sourceLocation)
            #expect(Self.code(after: "exit ", in: stderr) == Int(expected), "printed: \(stderr)", sourceLocation: sourceLocation)
            let summary = try Scratch.json("\(dir)/out/summary.json")
            #expect(summary["exit_code"] as? Int == Int(expected), sourceLocation: sourceLocation)
            let meaning = summary["exit_meaning"] as? String ?? "?"
            #expect(stderr.contains("\nexit \(expected): \(meaning)\n"), "printed meaning differs from summary.json's: \(stderr)", sourceLocation: sourceLocation)

            let status = try await BinaryRunner.run(["status", run], environment: env, directory: dir)
            #expect(status.status == 0, "status: \(status.stderr)", sourceLocation: sourceLocation)
            #expect(Self.code(after: "as of now: exit ", in: status.stdout) == Int(expected), "status: \(status.stdout)", sourceLocation: sourceLocation)
            #expect(status.stdout.contains("as of now: exit \(expected): \(meaning)\n"), "status: \(status.stdout)", sourceLocation: sourceLocation)
        }

        @Test(.timeLimit(.minutes(1)))
        func dnspodUnknownsNoLookupCanSettleExit1AndStatusSays1() async throws {
            // Every DNSPod send lands but its answer is lost: sent once more (DNSPod has no lookup), lost again,
            // and then left `unknown` with code `no-lookup` — final, so 1, not "rerun to continue".
            let plan = FaultPlan(providers: ["dnspod": ProviderFaults(dropAfterProcessing: 1)])
            let server = try await SandboxServer.start(SandboxOptions(faults: plan))
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            let names = (0..<3).map { "nolookup\($0)-drop.com" }
            Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
            let env = E2E.environment(server, state: "\(dir)/state", timeout: 5)
            try await expectAgreement(["submit", "--quiet", "--provider", "dnspod", "--out", "out", "list.txt"], env: env, dir: dir, expected: 1)
            for name in names {
                let dnspod = try E2E.outcomes("\(dir)/out", name)["dnspod"] ?? [:]
                #expect(dnspod["state"] as? String == "unknown" && dnspod["code"] as? String == "no-lookup", "\(name): \(dnspod)")
            }
            #expect(try E2E.ledgerCounts(state: "\(dir)/state", run: "list")["dnspod"] == ["unknown": names.count])
        }

        @Test(.timeLimit(.minutes(1)))
        func aHaltedLaneExits4AndStatusSays4() async throws {
            let plan = FaultPlan(providers: ["oneapi": ProviderFaults(accountFailure: .credentials)])
            let server = try await SandboxServer.start(SandboxOptions(faults: plan))
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            Scratch.write("halted1-drop.com\nhalted2-drop.com\n", to: "\(dir)/list.txt")
            let env = E2E.environment(server, state: "\(dir)/state", timeout: 5)
            try await expectAgreement(["submit", "--quiet", "--provider", "dynadot,oneapi", "--out", "out", "list.txt"], env: env, dir: dir, expected: 4)
        }

        /// Before: a signal after a lane halted printed (and wrote) 4 but exited 3.
        @Test(.timeLimit(.minutes(1)))
        func aSignalAfterALaneHaltedExits4AndStatusSays4() async throws {
            let plan = FaultPlan(providers: [
                "oneapi": ProviderFaults(accountFailure: .credentials),
                "dynadot": ProviderFaults(latency: Latency.fixed(ms: 1000)),
            ])
            let server = try await SandboxServer.start(SandboxOptions(faults: plan))
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            Scratch.write((0..<500).map { "inthalt\($0)-drop.com" }.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
            let env = E2E.environment(server, state: "\(dir)/state", timeout: 10)
            let child = try LaunchedBinary(["submit", "--verbose", "--provider", "dynadot,oneapi", "--out", "out", "list.txt"], environment: env, directory: dir, label: "halt-term")
            // 1API has halted and Dynadot (five slow batches of 100) is mid-way.
            let ready = await eventually(within: 30) {
                child.exited != nil || (child.stderr.contains("lane halted") && server.stats().totalCreates("dynadot") >= 100)
            }
            #expect(ready && child.exited == nil, "not halted mid-run: \(child.stderr)")
            child.send(SIGTERM)
            guard let exit = await child.waitForExit(seconds: 20) else {
                child.send(SIGKILL)
                Issue.record("still running 20 s after SIGTERM")
                return
            }
            #expect(!exit.signaled)
            #expect(child.stderr.contains("terminated"))
            #expect(server.stats().totalCreates("dynadot") < 500, "the run was not stopped mid-way")
            try await expectAgreement(exit: exit.status, stderr: child.stderr, env: env, dir: dir, expected: 4)
        }

        @Test(.timeLimit(.minutes(1)))
        func anUnwrittenResultFileExits5AndStatusSays5ThenTheFixedRerunSays0() async throws {
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            Scratch.write("written-drop.com\nblocked-drop.com\n", to: "\(dir)/list.txt")
            try FileManager.default.createDirectory(atPath: "\(dir)/out/blocked-drop.com.json", withIntermediateDirectories: true)
            let env = E2E.environment(server, state: "\(dir)/state", timeout: 5)
            let arguments = ["submit", "--quiet", "--provider", "dynadot", "--out", "out", "list.txt"]
            try await expectAgreement(arguments, env: env, dir: dir, expected: 5)
            try FileManager.default.removeItem(atPath: "\(dir)/out/blocked-drop.com.json")
            try await expectAgreement(arguments, env: env, dir: dir, expected: 0)
        }

        /// Before: ArgumentParser's 1, "finished; some rejected", for a run that never started.
        @Test(.timeLimit(.minutes(1)))
        func aStateDirectoryThatCannotBeLockedIsAUsageError() async throws {
            let dir = Scratch.directory()
            Scratch.write("a-drop.com\n", to: "\(dir)/list.txt")
            Scratch.write("not a directory\n", to: "\(dir)/state")
            let result = try await BinaryRunner.run(
                ["submit", "--sandbox", "--quiet", "--state", "\(dir)/state", "list.txt"], environment: BinaryRunner.baseEnvironment(state: "\(dir)/state"), directory: dir)
            #expect(result.status == 2, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("cannot lock the state in \(dir)/state"))
        }

        @Test(.timeLimit(.minutes(1)))
        func aDryRunExits0AndStatusSays0() async throws {
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            Scratch.write("dry1-drop.com\ndry2-drop.com\n", to: "\(dir)/list.txt")
            let env = E2E.environment(server, state: "\(dir)/state", timeout: 5)
            try await expectAgreement(["submit", "--quiet", "--dry-run", "--provider", "dynadot", "--out", "out", "list.txt"], env: env, dir: dir, expected: 0)
            #expect(server.stats().requests.isEmpty, "a dry run sent something: \(server.stats().requests)")
        }
    }
}
