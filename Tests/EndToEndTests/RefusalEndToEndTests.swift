import BoBatchSandbox
import Foundation
import Testing

extension FaultInjectionEndToEndTests {
    /// Issue 7: refusals slow a lane but never park it, and never pass for "maybe processed". The same 2,000
    /// domains go to all five providers twice at the same time, each into its own sandbox and ledger: once clean,
    /// once with 5 % of creates refused in each way a provider refuses (HTTP 429 with `Retry-After: 1`, HTTP 503 with
    /// `Retry-After: 1`, and the provider's own "busy"/"too frequent" answer).
    @Suite(.serialized) struct RefusalEndToEndTests {
        static let domainCount = 2_000
        static let refusals = ProviderFaults(latency: Latency(minMs: 0, maxMs: 4), refuse: 0.05, tooManyRequests: 0.05, serviceUnavailable: 0.05)

        struct Outcome {
            var seconds: Double
            var stats: SandboxStats
            var dir: String
            var exit: LaunchedBinary.Exit
            var stderr: String
        }

        func run(_ faults: FaultPlan, names: [String], label: String) async throws -> Outcome {
            let server = try await SandboxServer.start(SandboxOptions(faults: faults, seed: 7))
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/drops.txt")
            var env = E2E.environment(server, state: "\(dir)/state", timeout: 10)
            for p in ["GNAME", "YAY", "ONEAPI", "DNSPOD"] { env["\(p)_THREADS"] = "8" }
            let began = Date()
            let child = try LaunchedBinary(["submit", "--quiet", "--out", "\(dir)/out", "drops.txt"], environment: env, directory: dir, label: label)
            guard let exit = await child.waitForExit(seconds: 240) else {
                child.send(SIGKILL)
                throw RefusalTestError("the \(label) run did not finish within 240 s: \(child.stderr.suffix(2000))")
            }
            return Outcome(seconds: Date().timeIntervalSince(began), stats: server.stats(), dir: dir, exit: exit, stderr: child.stderr)
        }

        @Test(.timeLimit(.minutes(8)))
        func refusalsOfEveryKindCostLittleTimeAndNeverLeaveAPairUnsettled() async throws {
            let names = CrashResumeEndToEndTests.domains(seed: 11)
            // Both runs at once, so that whatever else loads the machine weighs on both alike.
            async let cleanRun = run(.none, names: names, label: "clean")
            async let faultedRun = run(FaultPlan(description: "refusals", providers: ["*": Self.refusals]), names: names, label: "refused")
            let (clean, faulted) = try await (cleanRun, faultedRun)
            let ratio = faulted.seconds / clean.seconds
            print("""
                refusals: \(names.count) domains × 5 providers: clean run \(String(format: "%.1f", clean.seconds)) s, \
                with 5 % refusals of each kind \(String(format: "%.1f", faulted.seconds)) s (× \(String(format: "%.2f", ratio))); \
                faults \(faulted.stats.faults)
                """)
            #expect(!clean.exit.signaled && clean.exit.status == 1, "clean: \(clean.exit) \(clean.stderr)")
            #expect(!faulted.exit.signaled && faulted.exit.status == 1, "refused: \(faulted.exit) \(faulted.stderr)")
            // Refusals really happened, of every kind, at every provider.
            for provider in E2E.providers {
                let seen = faulted.stats.faults[provider] ?? [:]
                for kind in ["refuse", "tooManyRequests", "serviceUnavailable"] {
                    #expect((seen[kind] ?? 0) > 10, "\(provider) saw too few \(kind): \(seen)")
                }
            }

            var problems: [String] = []
            for name in names {
                let outcomes = (try? E2E.outcomes("\(faulted.dir)/out", name)) ?? [:]
                for provider in E2E.providers {
                    let o = outcomes[provider] ?? [:]
                    let state = o["state"] as? String ?? "<missing>"
                    let expected = name.hasPrefix("taken") ? "rejected" : "accepted"
                    // Nothing went unanswered here, so nothing may be unknown, DNSPod included.
                    if state != expected { problems.append("\(provider) \(name): \(state) — \(o["message"] ?? "")") }
                    let creates = faulted.stats.createCount(provider, name)
                    if creates != (expected == "accepted" ? 1 : 0) { problems.append("\(provider) \(name): \(creates) creates") }
                }
            }
            #expect(problems.isEmpty, "\(problems.count) pairs wrong: \(problems.prefix(20))")
            // A refusal is an answer: nothing needed a lookup to settle it.
            let sends = ["gname": ["add"], "yay": ["POST /dom/back-order"], "oneapi": ["AddDomainApplication"], "dnspod": ["Domain.Acquiresend", "Domain.Acquire"]]
            for (provider, commands) in sends {
                let others = (faulted.stats.requests[provider] ?? [:]).filter { !commands.contains($0.key) }
                #expect(others.isEmpty, "\(provider) was asked more than its sends: \(others)")
            }
            #expect(ratio <= 2.0, "refusals made the run \(String(format: "%.2f", ratio)) times as long (\(String(format: "%.1f", faulted.seconds)) s against \(String(format: "%.1f", clean.seconds)) s)")
        }
    }
}

struct RefusalTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
