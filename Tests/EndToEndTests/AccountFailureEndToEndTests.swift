import BoBatchSandbox
import Foundation
import Testing

extension FaultInjectionEndToEndTests {
    /// An account-level error at one provider halts that lane at once, names the fix, keeps its pairs resumable,
    /// and leaves the other lanes to finish their work.
    @Suite(.serialized) struct AccountFailureEndToEndTests {
        @Test(.timeLimit(.minutes(1)))
        func oneLaneHaltsWithExit4AndTheOthersComplete() async throws {
            let plan = FaultPlan(providers: ["oneapi": ProviderFaults(accountFailure: .credentials)])
            let server = try await SandboxServer.start(SandboxOptions(faults: plan))
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            let names = (0..<60).map { "halt\($0)-drop.com" }
            Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
            let env = E2E.environment(server, state: "\(dir)/state", timeout: 10)
            let arguments = ["submit", "--quiet", "--out", "out", "list.txt"]
            let result = try await BinaryRunner.run(arguments, environment: env, directory: dir)
            #expect(result.status == 4, "stderr: \(result.stderr)")
            #expect(result.stderr.contains("ONEAPI_LOGIN") || result.stderr.contains("ONEAPI_PASSWORD"), "no fix named: \(result.stderr)")

            let stats = server.stats()
            // It stopped at the first answer instead of marching through the list.
            #expect(stats.requestCount("oneapi", "AddDomainApplication") <= 1, "\(stats.requests["oneapi"] ?? [:])")
            #expect(stats.totalCreates("oneapi") == 0)
            for name in names {
                let outcomes = try E2E.outcomes("\(dir)/out", name)
                let oneapi = outcomes["oneapi"] ?? [:]
                #expect(oneapi["state"] as? String == "failed", "oneapi \(name): \(oneapi)")
                let message = oneapi["message"] as? String ?? ""
                #expect(message.contains("Fix:") && message.contains("ONEAPI_"), "oneapi \(name): \(message)")
                for provider in ["dynadot", "gname", "yay", "dnspod"] {
                    #expect(outcomes[provider]?["state"] as? String == "accepted", "\(provider) \(name): \(outcomes[provider] ?? [:])")
                    #expect(stats.createCount(provider, name) == 1)
                }
            }
            let summary = try Scratch.json("\(dir)/out/summary.json")
            #expect(summary["exit_code"] as? Int == 4)
            let oneapiSummary = (summary["providers"] as? [String: Any])?["oneapi"] as? [String: Any] ?? [:]
            #expect(oneapiSummary["halted"] is String && oneapiSummary["fix"] is String, "\(oneapiSummary)")

            // Fixed (the fault is gone): a rerun sends only what is left, to 1API, and finishes.
            try server.setFaults(.none)
            let before = server.stats()
            let rerun = try await BinaryRunner.run(arguments, environment: env, directory: dir)
            #expect(rerun.status == 0, "rerun: \(rerun.stderr)")
            let after = server.stats()
            for provider in ["dynadot", "gname", "yay", "dnspod"] {
                #expect(after.totalCreates(provider) == before.totalCreates(provider), "\(provider) was sent again")
            }
            #expect(after.totalCreates("oneapi") == names.count)
            #expect(E2E.duplicates(after, "oneapi").isEmpty)
            #expect(names.allSatisfy { E2E.state("\(dir)/out", $0, "oneapi") == "accepted" })
        }
    }
}
