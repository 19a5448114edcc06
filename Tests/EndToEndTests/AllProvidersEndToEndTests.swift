import BoBatchSandbox
import Foundation
import Testing

/// Every seed provider side by side, through the real binary and libcurl, against the sandbox on loopback.
@Suite(.serialized) struct AllProvidersEndToEndTests {
    static let providers = ["dynadot", "gname", "yay", "oneapi", "dnspod"]

    func environment(_ server: SandboxServer, state: String) -> [String: String] {
        var env = BinaryRunner.baseEnvironment(state: state)
        env.merge(SandboxCredentials.environment(for: server)) { _, new in new }
        for p in Self.providers { env["\(p.uppercased())_RATE"] = "600000" }
        return env
    }

    @Test func everyValidDomainGetsOneCorrectOutcomePerProviderAndARerunSendsNothing() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        let domains = (0..<60).map { "catch\($0).com" } + ["taken-a.net", "livefeed.org", "mail.tk", "Bücher.de"]
        // An email column feeds DNSPod; one row lacks it (and DNSPOD_EMAIL is unset) so DNSPod must skip it.
        var csv = "domain,email\n"
        for (i, d) in domains.enumerated() { csv += "\(d),\(i == 3 ? "" : "owner\(i)@example.com")\n" }
        Scratch.write(csv, to: "\(dir)/list.csv")
        let env = environment(server, state: "\(dir)/state")
        let args = ["submit", "--quiet", "--provider", Self.providers.joined(separator: ","), "--out", "\(dir)/out", "list.csv"]
        let first = try await BinaryRunner.run(args, environment: env, directory: dir)
        #expect(first.status == 1, "stderr: \(first.stderr)")

        for (i, raw) in domains.enumerated() {
            let name = raw == "Bücher.de" ? "xn--bcher-kva.de" : raw
            let file = try Scratch.json("\(dir)/out/\(name).json")
            let outcomes = try #require(file["outcomes"] as? [String: [String: Any]])
            #expect(Set(outcomes.keys) == Set(Self.providers), "\(name)")
            for provider in Self.providers {
                let state = outcomes[provider]?["state"] as? String
                let expected: String
                if name.hasPrefix("taken") || name.hasPrefix("live") {
                    expected = "rejected"
                } else if provider == "dnspod" && i == 3 {
                    expected = "skipped"
                } else if provider == "dnspod" && name.hasSuffix(".tk") {
                    expected = "rejected"
                } else {
                    expected = "accepted"
                }
                #expect(state == expected, "\(name) at \(provider): \(outcomes[provider] ?? [:])")
            }
        }
        let stats = server.stats()
        for provider in Self.providers {
            #expect(stats.creates[provider]?.values.allSatisfy { $0 == 1 } ?? false, "\(provider) created something twice")
        }
        #expect(stats.totalCreates("gname") == 62)
        // Yay charges every POST: exactly one per domain sent (62 placed + 2 refused as not pending delete).
        #expect(stats.charges == 64)
        let yayRef = try Scratch.json("\(dir)/out/catch5.com.json")
        #expect(((yayRef["outcomes"] as? [String: [String: Any]])?["yay"]?["reference"] as? String)?.count == 36)

        let requestsBefore = server.stats().requests.values.flatMap(\.values).reduce(0, +)
        let second = try await BinaryRunner.run(args, environment: env, directory: dir)
        #expect(second.status == 1)
        #expect(server.stats().requests.values.flatMap(\.values).reduce(0, +) == requestsBefore)
        #expect(try Scratch.json("\(dir)/out/summary.json")["requests_this_invocation"] as? Int == 0)
    }

    @Test func providersListsPacingAndWhetherCredentialsAreSetButNeverTheirValues() async throws {
        let dir = Scratch.directory()
        var env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        env["DYNADOT_API_KEY"] = "super-secret-dynadot-key"
        env["DYNADOT_ACCOUNT"] = "bulk"
        env["YAY_PASSWORD"] = "half-configured"
        let result = try await BinaryRunner.run(["providers"], environment: env, directory: dir)
        #expect(result.status == 2, "half-configured Yay must be reported")
        #expect(result.stdout.contains("dynadot"))
        #expect(result.stdout.contains("5 at a time, 600/min"))
        #expect(result.stdout.contains("not set (GNAME_APPID, GNAME_APPKEY)"))
        #expect(result.stderr.contains("YAY_RESELLER"))
        #expect(!result.stdout.contains("super-secret-dynadot-key"))
        #expect(!result.stderr.contains("half-configured"))
    }

    /// BO_BATCH_TIMEOUT applies to sandbox runs too (it was left out with the real credentials): a bad value is a
    /// configuration error before anything is sent, as it is without --sandbox.
    @Test func theRequestTimeLimitReachesASandboxRun() async throws {
        let work = Scratch.directory()
        let state = (work as NSString).appendingPathComponent("state")
        Scratch.write("timeout-one.com\n", to: "\(work)/list.txt")
        var env = BinaryRunner.baseEnvironment(state: state)
        env["BO_BATCH_TIMEOUT"] = "soon"
        let bad = try await BinaryRunner.run(["submit", "--sandbox", "--provider", "yay", "list.txt"], environment: env, directory: work)
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("BO_BATCH_TIMEOUT=soon"), "\(bad.stderr)")
        env["BO_BATCH_TIMEOUT"] = "30"
        let good = try await BinaryRunner.run(["submit", "--sandbox", "--provider", "yay", "list.txt"], environment: env, directory: work)
        #expect(good.status == 0, "\(good.stderr)")
    }
}
