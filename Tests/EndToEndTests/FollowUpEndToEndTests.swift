import BoBatch
import BoBatchSandbox
import Foundation
import Testing

extension FaultInjectionEndToEndTests {
    /// `refresh` and `cancel` with the real binary against a standalone sandbox (started in this process, as the
    /// other end-to-end suites do), after a real `submit`. They hold with every provider answering the protocol's
    /// defaults (no refresh, no cancel offered) and check the ground truth of whatever the fakes do implement, so
    /// they become the full checks once the providers' follow-up calls are merged.
    @Suite(.serialized) struct FollowUpEndToEndTests {
        static let names = (0..<120).map { i in ["win", "lose", "redeem", "auction", "drop"][i % 5] + "\(i)-fu.com" }

        /// A submitted run `drops` of ``names`` at every provider; returns the scratch directory and environment.
        static func submitted(_ server: SandboxServer) async throws -> (dir: String, env: [String: String]) {
            let dir = Scratch.directory()
            Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/drops.txt")
            let env = E2E.environment(server, state: "\(dir)/state", timeout: 5)
            let submit = try await BinaryRunner.run(["submit", "--quiet", "--out", "\(dir)/out", "drops.txt"], environment: env, directory: dir)
            #expect([0, 1].contains(submit.status), "submit: \(submit.stderr)")
            return (dir, env)
        }

        /// Every fate a result file shows agrees with the sandbox's ground truth.
        static func expectFatesMatchTruth(_ server: SandboxServer, dir: String) throws -> Int {
            var compared = 0
            for provider in E2E.providers {
                let truth = server.truth(provider: provider)
                for name in names {
                    guard let fate = (try E2E.outcomes("\(dir)/out", name))[provider]?["fate"] as? [String: Any] else { continue }
                    let state = fate["state"] as? String
                    if state == "cancelled" { continue }
                    if let phase = truth[name] {
                        let expected = E2E.expectedFate(phase.stage, at: provider)
                        #expect(state == expected, "\(provider) \(name): file says \(state ?? "-"), sandbox \(phase.stage.rawValue) (expected \(expected))")
                        compared += 1
                    }
                }
            }
            return compared
        }

        @Test(.timeLimit(.minutes(2)))
        func refreshAfterTheDropAgreesWithTheSandboxAndKeepsUnrefreshedFilesAsTheyWere() async throws {
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let (dir, env) = try await Self.submitted(server)
            server.clock.advance(to: 6 * 86_400)
            let refresh = try await BinaryRunner.run(["refresh", "--out", "\(dir)/out", "drops"], environment: env, directory: dir)
            #expect([0, 1].contains(refresh.status), "refresh: \(refresh.stderr)")
            #expect(refresh.stderr.contains("exit \(refresh.status):"))
            let compared = try Self.expectFatesMatchTruth(server, dir: dir)
            let summary = try Scratch.json("\(dir)/out/summary.json")
            #expect(compared > 300, "the fates of the four backorder providers were compared with the sandbox")
            #expect(summary["fates"] is [String: Any] && summary["refreshed"] is String)
            // A second refresh asks nothing new about final fates and agrees again.
            let again = try await BinaryRunner.run(["refresh", "--out", "\(dir)/out", "drops"], environment: env, directory: dir)
            #expect(again.status == refresh.status, "\(again.stderr)")
        }

        @Test(.timeLimit(.minutes(2)))
        func cancelNeedsYesThenCancelsEachOrderAtMostOnceAndARerunNothingTwice() async throws {
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let (dir, env) = try await Self.submitted(server)
            let list = Self.names.prefix(40).joined(separator: "\n") + "\n"
            Scratch.write(list, to: "\(dir)/unwanted.txt")

            let unconfirmed = try await BinaryRunner.run(["cancel", "--domains", "unwanted.txt", "drops"], environment: env, directory: dir)
            #expect(unconfirmed.status == 2, "\(unconfirmed.stderr)")
            #expect(unconfirmed.stderr.contains("--yes"))
            let dry = try await BinaryRunner.run(["cancel", "--dry-run", "--domains", "unwanted.txt", "drops"], environment: env, directory: dir)
            #expect(dry.status == 0, "\(dry.stderr)")
            let cancelsSoFar = server.stats().cancels
            #expect(cancelsSoFar.values.allSatisfy { $0.isEmpty })
            // Only the listed domains are ever named.
            for line in dry.stdout.split(separator: "\n") {
                #expect(Self.names.prefix(40).contains(String(line.split(separator: "\t").last ?? "")), "\(line)")
            }

            let cancel = try await BinaryRunner.run(["cancel", "--yes", "--out", "\(dir)/out", "--domains", "unwanted.txt", "drops"], environment: env, directory: dir)
            // Gname offers no cancel, so 1 at least; 0 only if every selected provider withdrew everything.
            #expect([0, 1].contains(cancel.status), "cancel: \(cancel.stderr)")
            #expect(cancel.stderr.contains("gname"))
            let first = server.stats().cancels
            for (provider, counts) in first {
                #expect(counts.values.allSatisfy { $0 == 1 }, "\(provider) cancelled twice: \(counts.filter { $0.value > 1 })")
                #expect(Set(counts.keys).isSubset(of: Set(Self.names.prefix(40))), "\(provider) cancelled an order not asked for")
                for domain in counts.keys {
                    let fate = (try E2E.outcomes("\(dir)/out", domain))[provider]?["fate"] as? [String: Any]
                    #expect(fate?["state"] as? String == "cancelled", "\(provider) \(domain)")
                }
            }
            // The rerun sends nothing for what is cancelled: the counts do not move.
            let rerun = try await BinaryRunner.run(["cancel", "--yes", "--out", "\(dir)/out", "--domains", "unwanted.txt", "drops"], environment: env, directory: dir)
            #expect(rerun.status == cancel.status, "\(rerun.stderr)")
            #expect(server.stats().cancels == first)
        }

        @Test(.timeLimit(.minutes(3)))
        func killNineDuringCancelThenRerunCancelsNothingTwiceAndLeavesNothingSending() async throws {
            let faults = FaultPlan(description: "cancel crash", providers: Dictionary(uniqueKeysWithValues: E2E.providers.map {
                ($0, ProviderFaults(latency: Latency(minMs: 0, maxMs: 20), dropBeforeProcessing: 0.05, dropAfterProcessing: 0.05))
            }))
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let (dir, env) = try await Self.submitted(server)
            try server.setFaults(faults)
            var rng = SeededRandom(seed: 11)
            let arguments = ["cancel", "--yes", "--out", "\(dir)/out", "drops"]
            for round in 0..<6 {
                let child = try LaunchedBinary(arguments, environment: env, directory: dir, label: "cancel-kill-\(round)")
                _ = await child.waitForExit(seconds: Double(20 + rng.next() % 300) / 1000)
                child.send(SIGKILL)
                _ = await child.waitForExit()
            }
            var last = LaunchedBinary.Exit(status: -1, signaled: false)
            for round in 0..<6 {
                let child = try LaunchedBinary(arguments, environment: env, directory: dir, label: "cancel-rerun-\(round)")
                guard let exit = await child.waitForExit(seconds: 60) else {
                    child.send(SIGKILL)
                    Issue.record("cancel rerun did not finish")
                    return
                }
                last = exit
                if exit.status != 3 { break }
            }
            #expect([0, 1].contains(last.status), "\(last)")
            for (provider, counts) in server.stats().cancels {
                #expect(counts.values.allSatisfy { $0 == 1 }, "\(provider) cancelled twice: \(counts.filter { $0.value > 1 })")
            }
            let ledger = try Ledger(directory: "\(dir)/state")
            for (_, states) in try ledger.cancelCounts(run: "drops") {
                #expect(states[.sending] == nil)
            }
        }

        @Test(.timeLimit(.minutes(1)))
        func aHeldLockIs75AndAnUnknownRunIs2() async throws {
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let (dir, env) = try await Self.submitted(server)
            let unknown = try await BinaryRunner.run(["refresh", "nosuchrun"], environment: env, directory: dir)
            #expect(unknown.status == 2, "\(unknown.stderr)")
            let lock = try RunLock(directory: "\(dir)/state")
            let locked = try await BinaryRunner.run(["refresh", "drops"], environment: env, directory: dir)
            let lockedCancel = try await BinaryRunner.run(["cancel", "--yes", "drops"], environment: env, directory: dir)
            withExtendedLifetime(lock) {}
            #expect(locked.status == 75, "\(locked.stderr)")
            #expect(lockedCancel.status == 75, "\(lockedCancel.stderr)")
        }

        @Test(.timeLimit(.minutes(1)))
        func refreshWithTheInProcessSandboxAndItsClock() async throws {
            let dir = Scratch.directory()
            Scratch.write(Self.names.prefix(20).joined(separator: "\n") + "\n", to: "\(dir)/drops.txt")
            let env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
            let submit = try await BinaryRunner.run(["submit", "--sandbox", "--quiet", "drops.txt"], environment: env, directory: dir)
            #expect([0, 1].contains(submit.status), "\(submit.stderr)")
            let bad = try await BinaryRunner.run(["refresh", "--sandbox", "--sandbox-time", "tomorrow", "drops"], environment: env, directory: dir)
            #expect(bad.status == 2)
            let refresh = try await BinaryRunner.run(["refresh", "--sandbox", "--sandbox-time", "+6d", "drops"], environment: env, directory: dir)
            #expect([0, 1].contains(refresh.status), "\(refresh.stderr)")
            #expect(FileManager.default.fileExists(atPath: "\(dir)/results/sandbox/drops/summary.json"))
            // The in-process sandbox remembered what submit placed (its saved world) and ran 6 days ahead: a `win…`
            // name is won wherever the API can say so; Yay, which only lists active orders, no longer lists it.
            let won = try E2E.outcomes("\(dir)/results/sandbox/drops", Self.names[0])
            for provider in ["dynadot", "gname", "oneapi"] {
                #expect((won[provider]?["fate"] as? [String: Any])?["state"] as? String == "won", "\(provider): \(won[provider] ?? [:])")
            }
            #expect((won["yay"]?["fate"] as? [String: Any])?["state"] as? String == "gone")
        }

        /// kill -9 at random moments of a refresh, then reruns: every fate as the sandbox says, each change in the
        /// history once (an answer recorded twice would show as two entries of the same fate in a row).
        @Test(.timeLimit(.minutes(3)))
        func killNineDuringRefreshThenRerunEndsWithTheSandboxsFatesAndAHistoryWithoutRepeats() async throws {
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let (dir, env) = try await Self.submitted(server)
            var slow = FaultPlan(description: "slow refresh", providers: [:])
            for p in E2E.providers {
                var faults = ProviderFaults(latency: Latency(minMs: 5, maxMs: 30))
                faults.applyToLookups = true
                slow.providers[p] = faults
            }
            try server.setFaults(slow)
            server.clock.advance(to: 8 * 86_400)
            var rng = SeededRandom(seed: 5)
            let arguments = ["refresh", "--out", "\(dir)/out", "drops"]
            for round in 0..<5 {
                let child = try LaunchedBinary(arguments, environment: env, directory: dir, label: "refresh-kill-\(round)")
                _ = await child.waitForExit(seconds: Double(50 + rng.next() % 600) / 1000)
                child.send(SIGKILL)
                _ = await child.waitForExit()
            }
            try server.setFaults(.none)
            let rerun = try await BinaryRunner.run(arguments, environment: env, directory: dir)
            #expect([0, 1].contains(rerun.status), "\(rerun.stderr)")
            #expect(try Self.expectFatesMatchTruth(server, dir: dir) > 300)
            let ledger = try Ledger(directory: "\(dir)/state")
            for provider in [ProviderID.dynadot, .gname, .oneapi, .yay] {
                for name in Self.names {
                    let fates = try ledger.fateHistory(run: "drops", provider: provider, domain: DomainName(validatedASCII: name)).map(\.fate)
                    #expect(zip(fates, fates.dropFirst()).allSatisfy { $0 != $1 }, "\(provider) \(name): \(fates)")
                }
            }
        }
    }
}
