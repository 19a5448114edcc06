import BoBatchSandbox
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The in-process sandbox's memory between invocations of the real binary: `submit --sandbox` saves the world
/// beside the sandbox ledger (`<state>/sandbox/sandbox-world.json`), and the next sandbox started from that state
/// (`SandboxSession`, as `refresh --sandbox` starts it) finds the orders placed and the clock where it was left.
@Suite(.serialized) struct SandboxWorldEndToEndTests {
    @Test(.timeLimit(.minutes(3)))
    func submitSandboxLeavesItsOrdersAndTheClockToTheNextSandbox() async throws {
        let dir = Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = (dir as NSString).appendingPathComponent("state")
        let sandboxState = (state as NSString).appendingPathComponent("sandbox")
        let env = BinaryRunner.baseEnvironment(state: state)
        Scratch.write("kept-one.com\nwin-two.com\ntaken-three.com\n", to: "\(dir)/first.txt")
        Scratch.write("later-four.com\n", to: "\(dir)/second.txt")

        let first = try await BinaryRunner.run(
            ["submit", "--sandbox", "--quiet", "--provider", "yay", "--out", "out1", "first.txt"], environment: env, directory: dir)
        #expect(first.status == 1, "\(first.stderr)")  // taken-three.com is refused by the sandbox
        let world = SandboxSession.worldFile(stateDirectory: sandboxState)
        #expect(FileManager.default.fileExists(atPath: world))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandboxState).filter { $0.contains(".tmp-") }.isEmpty)

        // The next sandbox of that state: the orders, waiting; then the clock moves (and is saved at once).
        let looking = try await SandboxSession.start(stateDirectory: sandboxState)
        #expect(Set(looking.truth(provider: "yay").keys) == ["kept-one.com", "win-two.com"])
        #expect(looking.truth(provider: "yay").values.allSatisfy { $0.stage == .waiting })
        #expect(looking.clock.offset == 0)
        looking.clock.advance(to: 60)

        // While it holds the world, another --sandbox run of the same state waits its turn (exit 75, nothing sent).
        let blocked = try await BinaryRunner.run(
            ["submit", "--sandbox", "--quiet", "--provider", "yay", "--out", "out2", "second.txt"], environment: env, directory: dir)
        #expect(blocked.status == 75, "\(blocked.stderr)")
        #expect(blocked.stderr.contains("sandbox world"), "\(blocked.stderr)")
        await looking.shutdown()

        // A second submit starts from that world: the clock a minute ahead, the first orders still held.
        let second = try await BinaryRunner.run(
            ["submit", "--sandbox", "--quiet", "--provider", "yay", "--out", "out2", "second.txt"], environment: env, directory: dir)
        #expect(second.status == 0, "\(second.stderr)")

        let last = try await SandboxSession.start(stateDirectory: sandboxState)
        #expect(last.clock.offset == 60)
        let truth = last.truth(provider: "yay")
        #expect(Set(truth.keys) == ["kept-one.com", "win-two.com", "later-four.com"])
        last.clock.advance(to: 6 * 86_400)
        #expect(last.truth(provider: "yay")["win-two.com"]?.stage == .won)
        await last.shutdown()
        let saved = try Scratch.json(world)
        #expect(saved["clock_offset_seconds"] as? Int == 6 * 86_400)
    }

    @Test(.timeLimit(.minutes(2)))
    func theStandaloneSandboxStartsAheadWithTime() async throws {
        let dir = Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = BinaryRunner.baseEnvironment(state: dir)
        let server = try LaunchedBinary(["sandbox", "--port", "0", "--time", "+1d12h"], environment: env, directory: dir)
        defer { server.send(SIGTERM) }
        #expect(await eventually(within: 30) { server.stdout.contains("export ") || server.exited != nil }, "\(server.stderr)")
        let line = try #require(server.stdout.split(separator: "\n").first { $0.contains("listening on ") })
        let base = String(line[line.range(of: "listening on ")!.upperBound...])
        #expect(server.stdout.contains("+1d12h ahead"))

        let (data, _) = try await URLSession.shared.data(from: URL(string: base + "/_sandbox/clock")!)
        let clock = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(clock["offset_seconds"] as? Int == 129_600)
        server.send(SIGTERM)
        #expect(await server.waitForExit(seconds: 30) != nil)

        let refused = try await BinaryRunner.run(["sandbox", "--port", "0", "--time=-1d"], environment: env, directory: dir)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("only moves forward"), "\(refused.stderr)")
    }
}
