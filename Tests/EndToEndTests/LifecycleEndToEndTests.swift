import BoBatch
import BoBatchSandbox
import Foundation
import Testing

/// Issue 11's whole lifecycle through the real binary against one sandbox: submit 2,000 domains to all five
/// providers, cancel a subset before the drop with faults on, move the sandbox's clock past every drop, refresh,
/// and compare every fate with the sandbox's ground truth; then reclaim at DNSPod what was won.
@Suite(.serialized) struct LifecycleEndToEndTests {
    static let backorderProviders = ["dynadot", "gname", "yay", "oneapi"]
    static let cancellable = ["dynadot", "yay", "oneapi"]

    func fate(_ dir: String, _ domain: String, _ provider: String) -> String? {
        ((try? E2E.outcomes(dir, domain))?[provider]?["fate"] as? [String: Any])?["state"] as? String
    }

    @Test(.timeLimit(.minutes(5))) func twoThousandDomainsFiveProvidersCancelRefreshReclaimMatchTheSandbox() async throws {
        let server = try await SandboxServer.start(SandboxOptions(seed: 11))
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        // Named so every outcome occurs: prefixes force won/lost/redeemed/auction, the rest go by the name's hash.
        let prefixes = ["win", "lose", "redeem", "auction", "life", "life", "life", "life"]
        let names = (0..<2_000).map { "\(prefixes[$0 % prefixes.count])\($0)-drop.com" }
        Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/night.txt")
        var env = E2E.environment(server, state: "\(dir)/state")
        for p in E2E.providers { env["\(p.uppercased())_THREADS"] = "8"; env["\(p.uppercased())_RATE"] = "600000" }

        let submit = try await BinaryRunner.run(["submit", "--quiet", "--out", "out", "night.txt"], environment: env, directory: dir)
        #expect(submit.status == 0, "submit: \(submit.stderr)")
        for provider in E2E.providers { #expect(server.stats().totalCreates(provider) == 2_000, "\(provider)") }

        // Cancel every tenth domain before the drop, while the connections drop before and after processing.
        let subset = names.enumerated().filter { $0.offset % 10 == 3 }.map(\.element)
        Scratch.write(subset.joined(separator: "\n") + "\n", to: "\(dir)/unwanted.txt")
        var faults = FaultPlan()
        // Dynadot cancels 100 orders a request (two or three requests in all): its drops are likelier, so they happen.
        for p in Self.cancellable {
            let rate = p == "dynadot" ? 0.4 : 0.1
            faults.providers[p] = ProviderFaults(dropBeforeProcessing: rate, dropAfterProcessing: rate)
        }
        try server.setFaults(faults)
        let cancelArgs = ["cancel", "night", "--domains", "unwanted.txt", "--provider", Self.cancellable.joined(separator: ","), "--yes", "--out", "out"]
        var cancel = try await BinaryRunner.run(cancelArgs, environment: env, directory: dir)
        for _ in 0..<3 where cancel.status == 3 { cancel = try await BinaryRunner.run(cancelArgs, environment: env, directory: dir) }
        #expect(cancel.status == 0, "cancel: \(cancel.stderr)")
        let stats = server.stats()
        for p in Self.cancellable {
            #expect(stats.faultCount(p, .dropAfterProcessing) + stats.faultCount(p, .dropBeforeProcessing) > 0, "\(p): no fault met a cancel")
            let wrong = subset.filter { stats.cancelCount(p, $0) != 1 }
            #expect(wrong.isEmpty, "\(p): not cancelled exactly once: \(wrong.prefix(5))")
            #expect((stats.cancels[p] ?? [:]).count == subset.count, "\(p) cancelled something else")
        }
        // A rerun cancels nothing twice (and sends nothing: every pair is settled).
        try server.setFaults(.none)
        let before = E2E.totalRequests(server.stats())
        let again = try await BinaryRunner.run(cancelArgs, environment: env, directory: dir)
        #expect(again.status == 0, "cancel rerun: \(again.stderr)")
        #expect(E2E.totalRequests(server.stats()) == before)

        // Past every drop and every auction's end; refresh; each fate is what the sandbox says it is.
        server.clock.advance(to: 8 * 86_400)
        let refresh = try await BinaryRunner.run(["refresh", "night", "--out", "out"], environment: env, directory: dir)
        #expect([0, 1].contains(refresh.status), "refresh: \(refresh.stderr)")
        let unwanted = Set(subset)
        for provider in Self.backorderProviders {
            let truth = server.truth(provider: provider)
            var mismatches: [String] = []
            for name in names {
                let expected: String
                if unwanted.contains(name), Self.cancellable.contains(provider) {
                    expected = "cancelled"
                } else {
                    guard let phase = truth[name] else { mismatches.append("\(name): not held by the sandbox"); continue }
                    expected = E2E.expectedFate(phase.stage, at: provider)
                }
                let got = fate("\(dir)/out", name, provider)
                if got != expected { mismatches.append("\(name): \(got ?? "none") ≠ \(expected)") }
            }
            #expect(mismatches.isEmpty, "\(provider): \(mismatches.count) fates differ from the sandbox, e.g. \(mismatches.prefix(5))")
        }
        let summary = try Scratch.json("\(dir)/out/summary.json")
        #expect(summary["fates"] != nil, "summary.json counts fates")
        let report = try String(contentsOfFile: "\(dir)/out/report.html", encoding: .utf8)
        #expect(report.contains("won") && report.contains("cancelled"), "refresh rewrote report.html with the fates")

        // Reclaim: one Acquiresend per domain won at any provider, none for the others (submit already sent one each).
        let wonAnywhere = Set(names.filter { name in
            Self.backorderProviders.contains { fate("\(dir)/out", name, $0) == "won" }
        })
        #expect(wonAnywhere.count > 500)
        let reclaim = try await BinaryRunner.run(["reclaim", "night", "--quiet", "--out", "out"], environment: env, directory: dir)
        #expect(reclaim.status == 0, "reclaim: \(reclaim.stderr)")
        let after = server.stats()
        let wrong = names.filter { after.createCount("dnspod", $0) != (wonAnywhere.contains($0) ? 2 : 1) }
        #expect(wrong.isEmpty, "Acquiresends not one per won domain: \(wrong.prefix(5))")
    }
}
