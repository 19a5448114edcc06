import BoBatchSandbox
import Foundation
import Testing

/// The plan and the caps (issue 10, section 3) through the real binary, against the sandbox on loopback: a cap
/// stops a run before any request, `--cap-mode first` sends exactly N and a rerun nothing more, and a dry run
/// writes `plan.json` with unknown prices shown as unknown.
@Suite(.serialized) struct PlanEndToEndTests {
    /// `providers` pointed at `server`, paced for tests.
    func environment(_ server: SandboxServer, state: String, providers: [String]) -> [String: String] {
        var env = BinaryRunner.baseEnvironment(state: state)
        env.merge(SandboxCredentials.environment(for: server)) { _, new in new }
        for p in providers { env["\(p.uppercased())_RATE"] = "600000" }
        env["DNSPOD_EMAIL"] = "owner@example.com"
        return env
    }

    func list(_ dir: String, _ n: Int) {
        Scratch.write((1...n).map { "cap\($0).com" }.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
    }

    func provider(_ plan: [String: Any], _ name: String) -> [String: Any] {
        (plan["providers"] as? [[String: Any]])?.first { $0["provider"] as? String == name } ?? [:]
    }

    @Test func aPlanOverACapSendsNothingAndExits2WithThePlan() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        list(dir, 12)
        var env = environment(server, state: "\(dir)/state", providers: E2E.providers)
        env["YAY_PRICE"] = "2.50 GBP"
        env["DYNADOT_PRICE"] = "8 USD"

        // 12 Yay POSTs at 2.50 GBP are 30.00 GBP: over a 20 GBP cap by 10.00.
        let spend = try await BinaryRunner.run(
            ["submit", "--provider", "yay,dynadot", "--max-spend", "20GBP", "--out", "\(dir)/out", "list.txt"], environment: env, directory: dir)
        #expect(spend.status == 2, "stderr: \(spend.stderr)")
        #expect(spend.stderr.contains("nothing was sent: --max-spend 20 GBP: this run may cost or freeze 30.00 GBP"), "\(spend.stderr)")
        #expect(spend.stderr.contains("10.00 GBP over the cap"))
        #expect(spend.stderr.contains("--cap-mode first"))
        #expect(E2E.totalRequests(server.stats()) == 0)
        let plan = try Scratch.json("\(dir)/out/plan.json")
        #expect(plan["decision"] as? String == "stopped")
        #expect((plan["stopped_by"] as? [String])?.count == 1)
        // The plan shows what would have been sent; Dynadot, priced in USD, is not under a GBP cap.
        #expect(provider(plan, "yay")["to_send"] as? Int == 12)
        #expect((plan["notes"] as? [String])?.contains { $0.contains("does not cover dynadot") } == true)
        let summary = try Scratch.json("\(dir)/out/summary.json")
        #expect(summary["exit_code"] as? Int == 2)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out/cap1.com.json"))

        // A domain cap stops every provider's plan the same way; a spend cap with an unknown price too.
        let domains = try await BinaryRunner.run(
            ["submit", "--quiet", "--max-domains", "5", "--out", "\(dir)/out", "list.txt"], environment: env, directory: dir)
        #expect(domains.status == 2)
        #expect(domains.stderr.contains("--max-domains 5: dynadot would be sent 12 domains in this run (0 before, 12 now), 7 over the cap"), "\(domains.stderr)")
        let unknown = try await BinaryRunner.run(
            ["submit", "--quiet", "--provider", "oneapi", "--max-spend", "oneapi=100USD", "--cap-mode", "first", "--out", "\(dir)/out", "list.txt"],
            environment: env, directory: dir)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("ONEAPI_PRICE"), "\(unknown.stderr)")
        #expect(E2E.totalRequests(server.stats()) == 0)
        let status = try await BinaryRunner.run(["status", "list"], environment: env, directory: dir)
        #expect(status.stdout.contains("exit 2"), "\(status.stdout)")
    }

    @Test func capModeFirstSendsExactlyNAndARerunSendsMoreOnlyWhenTheCapIsRaised() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        list(dir, 10)
        let env = environment(server, state: "\(dir)/state", providers: ["yay", "dynadot"])
        let args = ["submit", "--quiet", "--provider", "yay,dynadot", "--max-domains", "4", "--cap-mode", "first", "--out", "\(dir)/out", "list.txt"]
        let first = try await BinaryRunner.run(args, environment: env, directory: dir)
        // The rest are skipped, with the reason: finished, but some were skipped.
        #expect(first.status == 1, "stderr: \(first.stderr)")
        let stats = server.stats()
        #expect(stats.totalCreates("yay") == 4)
        #expect(stats.totalCreates("dynadot") == 4)
        #expect(stats.charges == 4)
        #expect(Set(stats.creates["yay"]?.keys.map { $0 } ?? []) == Set((1...4).map { "cap\($0).com" }))
        for i in 5...10 {
            let yay = try #require(try E2E.outcomes("\(dir)/out", "cap\(i).com")["yay"])
            #expect(yay["state"] as? String == "skipped")
            #expect(yay["code"] as? String == "cap")
            #expect((yay["message"] as? String)?.contains("--max-domains 4") == true, "\(yay)")
        }
        let plan = try Scratch.json("\(dir)/out/plan.json")
        #expect(plan["decision"] as? String == "trimmed")
        #expect(provider(plan, "yay")["to_send"] as? Int == 4)
        #expect(provider(plan, "yay")["skipped_by_cap"] as? Int == 6)

        // The same command again: nothing more is sent.
        let requests = E2E.totalRequests(server.stats())
        let again = try await BinaryRunner.run(args, environment: env, directory: dir)
        #expect(again.status == 1)
        #expect(E2E.totalRequests(server.stats()) == requests)

        // A higher cap sends the next ones in input order, counting the four already sent.
        var raised = args
        raised[raised.firstIndex(of: "4")!] = "6"
        let more = try await BinaryRunner.run(raised, environment: env, directory: dir)
        #expect(more.status == 1)
        #expect(server.stats().totalCreates("yay") == 6)
        #expect(server.stats().createCount("yay", "cap5.com") == 1)
        #expect(server.stats().createCount("yay", "cap7.com") == 0)
        #expect(server.stats().creates["yay"]?.values.allSatisfy { $0 == 1 } == true)
        #expect(E2E.state("\(dir)/out", "cap6.com", "yay") == "accepted")
        #expect(E2E.state("\(dir)/out", "cap7.com", "yay") == "skipped")
    }

    @Test func aDryRunWritesThePlanWithUnknownPricesShownAsUnknown() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        list(dir, 250)
        var env = environment(server, state: "\(dir)/state", providers: E2E.providers)
        env["DYNADOT_PRICE"] = "8.99 USD"
        env["GNAME_MAX_PRICE"] = "10"
        let result = try await BinaryRunner.run(
            ["submit", "--dry-run", "--quiet", "--out", "\(dir)/out", "list.txt"], environment: env, directory: dir)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(E2E.totalRequests(server.stats()) == 0)
        // Printed, one line per provider, even with --quiet: the plan is what a dry run is for.
        #expect(result.stderr.contains("plan: dynadot  250 to send, 3 requests"), "\(result.stderr)")
        #expect(result.stderr.contains("plan: yay      250 to send, 250 requests"))
        #expect(result.stderr.contains("charged now: unknown (set YAY_PRICE)"))

        let plan = try Scratch.json("\(dir)/out/plan.json")
        #expect(plan["dry_run"] as? Bool == true)
        #expect(plan["decision"] as? String == "send")
        #expect(Set(plan["unknown_prices"] as? [String] ?? []) == ["YAY_PRICE", "ONEAPI_PRICE", "GNAME_MAX_PRICE"])
        let yay = try #require(provider(plan, "yay")["exposure"] as? [String: Any])
        #expect(yay["kind"] as? String == "charged-now")
        #expect(yay["known"] as? Bool == false)
        #expect(yay["this_invocation"] is NSNull)
        #expect(yay["per_domain"] is NSNull)
        #expect((yay["note"] as? String)?.contains("YAY_PRICE") == true)
        let gname = try #require(provider(plan, "gname")["exposure"] as? [String: Any])
        #expect(gname["kind"] as? String == "frozen")
        #expect(gname["this_invocation"] as? String == "2500")
        #expect(gname["currency"] is NSNull)
        let dynadot = provider(plan, "dynadot")
        #expect(dynadot["requests"] as? Int == 3)
        #expect(dynadot["batch_size"] as? Int == 100)
        #expect((dynadot["exposure"] as? [String: Any])?["this_invocation"] as? String == "2247.50")
        #expect((dynadot["exposure"] as? [String: Any])?["kind"] as? String == "paid-if-caught")
        #expect((provider(plan, "dnspod")["exposure"] as? [String: Any])?["kind"] as? String == "none")
        #expect((dynadot["first_domains"] as? [String])?.first == "cap1.com")
        #expect((dynadot["estimate_note"] as? String)?.contains("lower bound") == true)
        #expect((plan["totals"] as? [[String: Any]])?.first?["currency"] as? String == "USD")

        // A price that cannot be read is a usage error naming its variable; nothing is read or sent.
        env["YAY_PRICE"] = "2,50 GBP"
        let bad = try await BinaryRunner.run(["submit", "--dry-run", "--out", "\(dir)/out", "list.txt"], environment: env, directory: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("YAY_PRICE=2,50 GBP is not AMOUNT CURRENCY"), "\(bad.stderr)")
        let badCap = try await BinaryRunner.run(["submit", "--max-spend", "20 GBPX", "list.txt"], environment: env, directory: dir)
        #expect(badCap.status == 2)
        #expect(badCap.stderr.contains("--max-spend 20 GBPX"))
    }
}
