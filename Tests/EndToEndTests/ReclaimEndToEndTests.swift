import BoBatch
import BoBatchSandbox
import Foundation
import Testing

/// `bo-batch reclaim` (issue 11 part 4): the real binary against a standalone sandbox, fates written into the
/// real ledger the way `refresh` records them (``Ledger/recordFates(run:provider:_:at:)``), Acquiresends counted
/// by the sandbox per domain.
@Suite(.serialized) struct ReclaimEndToEndTests {
    static let names = (0..<12).map { "catch\($0)-drop.com" }
    static let submitArguments = ["submit", "--quiet", "--provider", "dynadot,yay,dnspod", "--out", "out", "list.txt"]
    static let reclaimArguments = ["reclaim", "--quiet", "--out", "out", "list"]

    /// Submits the names to Dynadot, Yay and DNSPod (so the run has DNSPod pairs of its own that reclaim must not
    /// meet) and returns what the test needs.
    func submitted() async throws -> (SandboxServer, String, [String: String]) {
        let server = try await SandboxServer.start(SandboxOptions())
        let dir = Scratch.directory()
        Scratch.write(Self.names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
        let env = E2E.environment(server, state: "\(dir)/state")
        let submit = try await BinaryRunner.run(Self.submitArguments, environment: env, directory: dir)
        #expect(submit.status == 0, "submit: \(submit.stderr)")
        for name in Self.names { #expect(server.stats().createCount("dnspod", name) == 1) }
        return (server, dir, env)
    }

    /// Records `fate` for these domains at `provider`, as a refresh would.
    func record(_ fate: Fate, _ domains: [String], at provider: ProviderID, state: String) throws {
        let ledger = try Ledger(directory: state)
        let rows = try ledger.placedOrders(run: "list", provider: provider, afterID: 0, limit: 1000, includeFinal: true)
        let chosen = rows.filter { domains.contains($0.order.domain.ascii) }
        #expect(chosen.count == domains.count)
        try ledger.recordFates(run: "list", provider: provider, chosen.map { ($0, FateReport(fate: fate, detail: "set by the test")) })
    }

    /// The Acquiresends reclaim sent per domain: the sandbox's count less the one submit sent.
    func reclaimSends(_ server: SandboxServer) -> [String: Int] {
        let stats = server.stats()
        var out: [String: Int] = [:]
        for name in Self.names where stats.createCount("dnspod", name) > 1 { out[name] = stats.createCount("dnspod", name) - 1 }
        return out
    }

    @Test func oneAcquiresendPerWonDomainNoneForTheOthersAndNoneTwice() async throws {
        let (server, dir, env) = try await submitted()
        defer { Task { await server.shutdown() } }
        let state = "\(dir)/state"
        // catch0 is won at two providers: still one send. The others are lost, in auction, redeemed, or never refreshed.
        try record(.won, ["catch0-drop.com", "catch1-drop.com", "catch2-drop.com"], at: .dynadot, state: state)
        try record(.won, ["catch0-drop.com", "catch3-drop.com"], at: .yay, state: state)
        try record(.lost, ["catch4-drop.com", "catch5-drop.com"], at: .dynadot, state: state)
        try record(.inAuction, ["catch6-drop.com"], at: .dynadot, state: state)
        try record(.redeemed, ["catch7-drop.com"], at: .yay, state: state)

        let first = try await BinaryRunner.run(Self.reclaimArguments, environment: env, directory: dir)
        #expect(first.status == 0, "reclaim: \(first.stderr)")
        let won = ["catch0-drop.com", "catch1-drop.com", "catch2-drop.com", "catch3-drop.com"]
        #expect(reclaimSends(server) == Dictionary(uniqueKeysWithValues: won.map { ($0, 1) }))
        for name in won {
            #expect(E2E.state("\(dir)/out/reclaim", name, "dnspod") == "accepted", "\(name)")
            // The run's own results are not the reclaim's: its DNSPod pair (sent at submit time) is unchanged.
            #expect(E2E.state("\(dir)/out", name, "dnspod") == "accepted")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out/reclaim").filter { $0.hasSuffix(".json") && $0 != "summary.json" }
        #expect(Set(files) == Set(won.map { "\($0).json" }))
        let summary = try Scratch.json("\(dir)/out/reclaim/summary.json")
        #expect(summary["run"] as? String == "list+reclaim")
        #expect(summary["exit_code"] as? Int == 0)
        #expect(Set((summary["providers"] as? [String: Any] ?? [:]).keys) == ["dnspod"])

        // Rerun: nothing is sent twice.
        let again = try await BinaryRunner.run(Self.reclaimArguments, environment: env, directory: dir)
        #expect(again.status == 0, "rerun: \(again.stderr)")
        #expect(reclaimSends(server).values.allSatisfy { $0 == 1 })
        #expect(try Scratch.json("\(dir)/out/reclaim/summary.json")["requests_this_invocation"] as? Int == 0)

        // The auction is won after another refresh: the next reclaim adds that domain, and only it.
        try record(.won, ["catch6-drop.com"], at: .dynadot, state: state)
        let dry = try await BinaryRunner.run(Self.reclaimArguments + ["--dry-run"], environment: env, directory: dir)
        #expect(dry.status == 0, "dry run: \(dry.stderr)")
        #expect(dry.stderr.contains("would send: catch6-drop.com"))
        #expect(!dry.stderr.contains("would send: catch0-drop.com"))
        #expect(reclaimSends(server)["catch6-drop.com"] == nil, "a dry run sent")
        let later = try await BinaryRunner.run(Self.reclaimArguments, environment: env, directory: dir)
        #expect(later.status == 0, "later: \(later.stderr)")
        #expect(reclaimSends(server) == Dictionary(uniqueKeysWithValues: (won + ["catch6-drop.com"]).map { ($0, 1) }))
        #expect(E2E.state("\(dir)/out/reclaim", "catch6-drop.com", "dnspod") == "accepted")

        // status counts the fates per provider, says when the run was last refreshed, and what reclaim did.
        let status = try await BinaryRunner.run(["status", "list"], environment: env, directory: dir)
        #expect(status.status == 0)
        #expect(status.stdout.contains("  dynadot  12 accepted\n"), "today's lines stay: \(status.stdout)")
        #expect(status.stdout.contains("fates of the placed orders:\n"), "\(status.stdout)")
        #expect(status.stdout.contains("  dynadot  4 won, 2 lost, 6 waiting\n"), "\(status.stdout)")
        #expect(status.stdout.contains("  yay      2 won, 1 redeemed, 9 waiting\n"), "\(status.stdout)")
        // DNSPod's own sends are not backorders: no fate line while refresh has said nothing about them.
        #expect(!status.stdout.contains("  dnspod   12 waiting"), "\(status.stdout)")
        #expect(status.stdout.contains("last refreshed: 20"), "\(status.stdout)")
        #expect(status.stdout.contains("reclaim (DNSPod get-domain-back, run 'list+reclaim'): 5 accepted\n"), "\(status.stdout)")
    }

    @Test func nothingWonSendsNothingWritesNothingAndExits0() async throws {
        let (server, dir, env) = try await submitted()
        defer { Task { await server.shutdown() } }
        try record(.lost, ["catch4-drop.com"], at: .dynadot, state: "\(dir)/state")
        let result = try await BinaryRunner.run(Self.reclaimArguments, environment: env, directory: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("no domain won yet"))
        #expect(reclaimSends(server).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out/reclaim"))
        let ledger = try Ledger(directory: "\(dir)/state")
        #expect(try !ledger.runExists("list+reclaim"))
        // Not a run, a reclaim without DNSPod credentials: usage errors.
        let unknown = try await BinaryRunner.run(["reclaim", "nosuchrun"], environment: env, directory: dir)
        #expect(unknown.status == 2)
        var noToken = env
        noToken["DNSPOD_LOGIN_TOKEN"] = nil
        let missing = try await BinaryRunner.run(Self.reclaimArguments, environment: noToken, directory: dir)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("DNSPOD_LOGIN_TOKEN"))
    }

    @Test func theEmailComesFromTheInputColumnFirstAndWithoutAnyTheDomainIsSkipped() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        Scratch.write("domain,email\nmail0-drop.com,me@mail0-drop.com\nmail1-drop.com,\n", to: "\(dir)/list.csv")
        var env = E2E.environment(server, state: "\(dir)/state")
        env["DNSPOD_EMAIL"] = nil
        let submit = try await BinaryRunner.run(["submit", "--quiet", "--provider", "dynadot", "--out", "out", "list.csv"], environment: env, directory: dir)
        #expect(submit.status == 0, "\(submit.stderr)")
        try record(.won, ["mail0-drop.com", "mail1-drop.com"], at: .dynadot, state: "\(dir)/state")
        let result = try await BinaryRunner.run(Self.reclaimArguments, environment: env, directory: dir)
        // One sent to the input's address; the other has none (no DNSPOD_EMAIL, no DNSPOD_EMAIL_AUTO): skipped, exit 1.
        #expect(result.status == 1, "\(result.stderr)")
        #expect(server.stats().createCount("dnspod", "mail0-drop.com") == 1)
        #expect(server.stats().createCount("dnspod", "mail1-drop.com") == 0)
        #expect(E2E.state("\(dir)/out/reclaim", "mail0-drop.com", "dnspod") == "accepted")
        #expect(E2E.state("\(dir)/out/reclaim", "mail1-drop.com", "dnspod") == "skipped")
    }

    @Test func theBuiltInSandboxReclaimsASandboxRun() async throws {
        let dir = Scratch.directory()
        Scratch.write("box0-drop.com\nbox1-drop.com\nbox2-drop.com\n", to: "\(dir)/box.txt")
        let env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        let submit = try await BinaryRunner.run(["submit", "--sandbox", "--quiet", "--provider", "gname", "box.txt"], environment: env, directory: dir)
        #expect(submit.status == 0, "\(submit.stderr)")
        let ledger = try Ledger(directory: "\(dir)/state/sandbox")
        let rows = try ledger.placedOrders(run: "box", provider: .gname, afterID: 0, limit: 10)
        try ledger.recordFates(run: "box", provider: .gname, rows.filter { $0.order.domain.ascii != "box1-drop.com" }.map { ($0, FateReport(fate: .won, detail: "test")) })
        let reclaim = try await BinaryRunner.run(["reclaim", "--sandbox", "box"], environment: env, directory: dir)
        #expect(reclaim.status == 0, "\(reclaim.stderr)")
        let out = "\(dir)/results/sandbox/box/reclaim"
        #expect(E2E.state(out, "box0-drop.com", "dnspod") == "accepted")
        #expect(E2E.state(out, "box2-drop.com", "dnspod") == "accepted")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/box1-drop.com.json"))
        let status = try await BinaryRunner.run(["status", "--sandbox", "box"], environment: env, directory: dir)
        #expect(status.stdout.contains("  gname    2 won, 1 waiting\n"), "\(status.stdout)")
        #expect(status.stdout.contains("reclaim (DNSPod get-domain-back, run 'box+reclaim'): 2 accepted\n"), "\(status.stdout)")
    }
    /// `kill -9` mid-reclaim, then a rerun: the DNSPod lane's own guarantee (the intent committed before each send,
    /// a send that may have landed repeated at most once) holds for reclaim's run as it does for submit's.
    @Test(.timeLimit(.minutes(1)))
    func killedMidReclaimTheRerunFinishesSendingNoDomainMoreThanTwice() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        let names = (0..<40).map { "kill\($0)-drop.com" }
        Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
        let env = E2E.environment(server, state: "\(dir)/state")
        let submit = try await BinaryRunner.run(["submit", "--quiet", "--provider", "dynadot", "--out", "out", "list.txt"], environment: env, directory: dir)
        #expect(submit.status == 0, "\(submit.stderr)")
        let won = names.filter { !$0.hasPrefix("kill3") }
        try record(.won, won, at: .dynadot, state: "\(dir)/state")
        // Slow sends, so the kill lands mid-run.
        try server.setFaults(FaultPlan(providers: ["dnspod": ProviderFaults(latency: Latency.fixed(ms: 40))]))
        let child = try LaunchedBinary(Self.reclaimArguments, environment: env, directory: dir, label: "reclaim")
        let midRun = await eventually(within: 30) { child.exited != nil || server.stats().totalCreates("dnspod") >= 8 }
        #expect(midRun && child.exited == nil, "the reclaim never got going: \(child.stderr)")
        child.send(SIGKILL)
        _ = await child.waitForExit()
        #expect(server.stats().totalCreates("dnspod") < won.count, "the reclaim was not stopped mid-way")

        try server.setFaults(.none)
        let rerun = try await BinaryRunner.run(Self.reclaimArguments, environment: env, directory: dir)
        #expect([0, 1].contains(rerun.status), "rerun: \(rerun.stderr)")
        let stats = server.stats()
        for name in names {
            let sends = stats.createCount("dnspod", name)
            if won.contains(name) {
                #expect((1...2).contains(sends), "\(name): \(sends) sends")
                let state = E2E.state("\(dir)/out/reclaim", name, "dnspod")
                #expect(state == "accepted" || state == "unknown", "\(name): \(state ?? "no file")")
            } else {
                #expect(sends == 0, "\(name) was not won")
            }
        }
        // At most the sends in flight at the kill were repeated.
        #expect(won.filter { stats.createCount("dnspod", $0) == 2 }.count <= 1)
        let counts = try E2E.ledgerCounts(state: "\(dir)/state", run: "list+reclaim")
        #expect((counts["dnspod"]?["sending"] ?? 0) == 0)
    }
}
