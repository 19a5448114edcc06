import BoBatchSandbox
import Foundation
import Testing

extension FaultInjectionEndToEndTests {
    /// SIGTERM / SIGINT on the real binary mid-run: the first signal stops the run within seconds with exit 3, the
    /// summary written and the ledger consistent; a second signal exits at once. A rerun finishes the job without
    /// placing anything twice.
    @Suite(.serialized) struct SignalEndToEndTests {
        static let names = (0..<300).map { "signal\($0)-drop.com" }

        func prepare(latencyMs: Int) async throws -> (SandboxServer, String, [String: String]) {
            // Creates are slow enough that the run takes several seconds; lookups stay quick.
            let slow = ProviderFaults(latency: Latency.fixed(ms: latencyMs))
            let server = try await SandboxServer.start(SandboxOptions(faults: FaultPlan(providers: ["dynadot": slow, "yay": slow])))
            let dir = Scratch.directory()
            Scratch.write(Self.names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
            return (server, dir, E2E.environment(server, state: "\(dir)/state", timeout: 10))
        }

        static let arguments = ["submit", "--provider", "dynadot,yay", "--out", "out", "list.txt"]

        /// Reruns to completion and checks that every pair is accepted, each exactly once at the provider.
        func rerunFinishesWithoutDuplicates(_ server: SandboxServer, _ dir: String, _ env: [String: String]) async throws {
            try server.setFaults(.none)  // the slowness has served its purpose
            let rerun = try await BinaryRunner.run(Self.arguments + ["--quiet"], environment: env, directory: dir)
            #expect(rerun.status == 0, "rerun: \(rerun.stderr)")
            let stats = server.stats()
            for provider in ["dynadot", "yay"] {
                #expect(E2E.duplicates(stats, provider).isEmpty, "\(provider) duplicates: \(E2E.duplicates(stats, provider))")
                #expect(stats.totalCreates(provider) == Self.names.count)
            }
            for name in Self.names {
                for provider in ["dynadot", "yay"] {
                    #expect(E2E.state("\(dir)/out", name, provider) == "accepted", "\(provider) \(name)")
                }
            }
            #expect(E2E.temporaryFiles("\(dir)/out").isEmpty)
        }

        @Test(.timeLimit(.minutes(1)))
        func sigtermMidRunExits3QuicklyWithSummaryAndALedgerToResumeFrom() async throws {
            let (server, dir, env) = try await prepare(latencyMs: 30)
            defer { Task { await server.shutdown() } }
            let child = try LaunchedBinary(Self.arguments, environment: env, directory: dir, label: "term")
            // Mid-run: some Yay backorders placed, most not.
            let midRun = await eventually(within: 30) { child.exited != nil || server.stats().totalCreates("yay") >= 20 }
            #expect(midRun && child.exited == nil, "the run never got going: \(child.stderr)")
            let signalled = Date()
            child.send(SIGTERM)
            guard let exit = await child.waitForExit(seconds: 10) else {
                child.send(SIGKILL)
                Issue.record("still running 10 s after SIGTERM")
                return
            }
            let took = Date().timeIntervalSince(signalled)
            print("signals: SIGTERM → \(exit) after \(String(format: "%.2f", took)) s")
            #expect(!exit.signaled && exit.status == 3, "\(exit): \(child.stderr)")
            #expect(child.stderr.contains("terminated"))
            #expect(server.stats().totalCreates("yay") < Self.names.count, "the run was not stopped mid-way")

            let summary = try Scratch.json("\(dir)/out/summary.json")
            #expect(summary["exit_code"] as? Int == 3)
            // The screen, summary.json and `status` say what the process exited with.
            let meaning = summary["exit_meaning"] as? String ?? "?"
            #expect(meaning.hasPrefix("interrupted"), "\(meaning)")
            #expect(child.stderr.contains("\nexit 3: \(meaning)\n"), "printed: \(child.stderr)")
            let status = try await BinaryRunner.run(["status", "list"], environment: env, directory: dir)
            #expect(status.stdout.contains("as of now: exit 3: \(meaning)\n"), "status: \(status.stdout)")
            // Consistent: every pair present, none left mid-send, and what the ledger calls placed is placed.
            let counts = try E2E.ledgerCounts(state: "\(dir)/state", run: "list")
            for provider in ["dynadot", "yay"] {
                #expect(counts[provider]?.values.reduce(0, +) == Self.names.count)
                #expect((counts[provider]?["sending"] ?? 0) == 0, "\(provider): \(counts[provider] ?? [:])")
                #expect((counts[provider]?["accepted"] ?? 0) <= server.stats().totalCreates(provider))
            }
            #expect(E2E.temporaryFiles("\(dir)/out").isEmpty)

            try await rerunFinishesWithoutDuplicates(server, dir, env)
        }

        /// Issue 7: the first SIGTERM stops new sends but lets the answers already on the wire land. Creates of all
        /// five providers are slow (1.5 s in the sandbox), so every lane has requests in flight when the signal
        /// comes: each of them must end recorded with its verdict, never `unknown`, and the rerun must send nothing
        /// for them (no lookup, no second create).
        @Test(.timeLimit(.minutes(2)))
        func sigtermLetsEveryAnswerInFlightLandAndBeRecorded() async throws {
            let slow = ProviderFaults(latency: Latency.fixed(ms: 1500))
            let server = try await SandboxServer.start(SandboxOptions(faults: FaultPlan(providers: ["*": slow])))
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            Scratch.write(Self.names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
            var env = E2E.environment(server, state: "\(dir)/state", timeout: 20)
            for p in ["GNAME", "YAY", "ONEAPI", "DNSPOD"] { env["\(p)_THREADS"] = "4" }
            let arguments = ["submit", "--out", "out", "list.txt"]
            let child = try LaunchedBinary(arguments, environment: env, directory: dir, label: "in-flight")
            // Wait until every provider is handling at least one create (Dynadot: one batch of 100).
            let allInFlight = await eventually(within: 60) {
                let stats = server.stats()
                return child.exited != nil || E2E.providers.allSatisfy { (stats.inFlight[$0] ?? 0) >= 1 }
            }
            #expect(allInFlight && child.exited == nil, "not every provider had a request in flight: \(server.stats().inFlight) \(child.stderr)")
            child.send(SIGTERM)
            guard let exit = await child.waitForExit(seconds: 60) else {
                child.send(SIGKILL)
                Issue.record("still running 60 s after SIGTERM: \(child.stderr)")
                return
            }
            #expect(!exit.signaled && exit.status == 3, "\(exit): \(child.stderr)")
            #expect(child.stderr.contains("waiting up to 20 s for the answers of requests in flight"))
            // Nothing is left on the wire: the sandbox answered everything it was sent, and the client took it.
            #expect(await eventually(within: 10) { E2E.providers.allSatisfy { (server.stats().inFlight[$0] ?? 0) == 0 } })
            let stats = server.stats()
            let counts = try E2E.ledgerCounts(state: "\(dir)/state", run: "list")
            for provider in E2E.providers {
                let recorded = counts[provider] ?? [:]
                // Every create the sandbox processed was answered and is recorded as placed; none is left unclear.
                #expect(stats.totalCreates(provider) > 0, "\(provider) never placed anything")
                #expect((recorded["accepted"] ?? 0) == stats.totalCreates(provider), "\(provider): ledger \(recorded), sandbox placed \(stats.totalCreates(provider))")
                #expect((recorded["unknown"] ?? 0) == 0 && (recorded["sending"] ?? 0) == 0, "\(provider): \(recorded)")
            }
            let placed = Dictionary(uniqueKeysWithValues: E2E.providers.map { ($0, stats.totalCreates($0)) })
            let requestsBefore = stats.requests

            // The rerun sends nothing for what was answered: no lookup, and each domain is created once overall.
            try server.setFaults(.none)
            let rerun = try await BinaryRunner.run(arguments + ["--quiet"], environment: env, directory: dir)
            #expect(rerun.status == 0, "rerun: \(rerun.stderr)")
            let after = server.stats()
            for provider in E2E.providers {
                #expect(E2E.duplicates(after, provider).isEmpty, "\(provider) placed something twice")
                #expect(after.totalCreates(provider) == Self.names.count)
                let sentAgain = (after.requests[provider] ?? [:]).merging(requestsBefore[provider] ?? [:]) { $0 - $1 }
                print("signals: \(provider): \(placed[provider] ?? 0) placed before SIGTERM; rerun requests \(sentAgain)")
            }
            #expect(after.requestCount("gname", "add") == Self.names.count, "Gname got a create twice")
            #expect(after.requestCount("yay", "POST /dom/back-order") == Self.names.count, "Yay charged twice")
            #expect(after.requestCount("oneapi", "AddDomainApplication") == Self.names.count)
            #expect(after.requestCount("dnspod", "Domain.Acquiresend") == Self.names.count, "DNSPod mailed an owner twice")
            for provider in E2E.providers where provider != "dynadot" {
                let lookups = (after.requests[provider] ?? [:]).filter { !["add", "POST /dom/back-order", "AddDomainApplication", "Domain.Acquiresend"].contains($0.key) }
                #expect(lookups.isEmpty, "\(provider) needed lookups: \(lookups)")
            }
        }

        @Test(.timeLimit(.minutes(1)))
        func aSecondSigintRightAfterTheFirstExitsAtOnce() async throws {
            let (server, dir, env) = try await prepare(latencyMs: 5)
            defer { Task { await server.shutdown() } }
            // A Yay create is held inside the sandbox, so the first signal has a request in flight to deal with.
            server.holdCreates(for: "yay")
            let child = try LaunchedBinary(Self.arguments, environment: env, directory: dir, label: "int")
            let held = await eventually(within: 30) { child.exited != nil || (server.stats().held["yay"] ?? 0) >= 1 }
            #expect(held && child.exited == nil, "no Yay create reached the sandbox: \(child.stderr)")

            child.send(SIGINT)
            // The first signal is being handled (its message is out); the second follows right away.
            let acknowledged = await eventually(within: 5, every: 1) { child.exited != nil || child.stderr.contains("interrupted") }
            #expect(acknowledged)
            let second = Date()
            child.send(SIGINT)
            guard let exit = await child.waitForExit(seconds: 5) else {
                child.send(SIGKILL)
                Issue.record("still running 5 s after the second SIGINT")
                return
            }
            let took = Date().timeIntervalSince(second)
            let cutShort = child.stderr.contains("second signal")
            print("signals: second SIGINT → \(exit) after \(String(format: "%.3f", took)) s (\(cutShort ? "cut short by the second signal" : "the first had already finished"))")
            #expect(!exit.signaled && exit.status == 3, "\(exit): \(child.stderr)")
            #expect(cutShort, "the second signal did not end the run: \(child.stderr)")
            // It did not wait for the answer in flight: the sandbox still holds that create, unanswered.
            #expect((server.stats().held["yay"] ?? 0) >= 1, "the run waited for the held request")

            // The held request goes through now (the provider processed it after the client left): the rerun must
            // find it by lookup rather than place it again.
            server.releaseCreates(for: "yay")
            #expect(await eventually(within: 10) { (server.stats().inFlight["yay"] ?? 0) == 0 })
            try await rerunFinishesWithoutDuplicates(server, dir, env)
        }
    }
}
