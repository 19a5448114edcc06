import BoBatchSandbox
import Foundation
import Testing

/// The one-domain-a-call lanes commit a worker's last answer and its next intent in one transaction, while a
/// request is on the wire. Killed with SIGKILL while eight workers per provider do so, over and over, the
/// guarantees stay: no create is sent twice, none is lost, and what was open at the kill (a request on the wire,
/// an intent committed ahead, an answer not yet recorded) is settled by a lookup on the rerun, not resent blind.
@Suite(.serialized) struct JoinedCommitKillEndToEndTests {
    static let providers = ["yay", "gname", "oneapi"]
    static let threads = 8

    @Test(.timeLimit(.minutes(2)))
    func killNineWhileAnswersAndNextIntentsCommitTogetherLosesNothingAndSendsNothingTwice() async throws {
        var rng = SeededRandom(seed: 20_261_201)
        let latency = ProviderFaults(latency: Latency(minMs: 5, maxMs: 25))
        let server = try await SandboxServer.start(SandboxOptions(
            faults: FaultPlan(description: "joined commits", providers: Dictionary(uniqueKeysWithValues: Self.providers.map { ($0, latency) }))))
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        let names = (0..<400).map { "joined\($0)-\(String(rng.next() % 0xfffff, radix: 16)).com" }
        Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
        var env = E2E.environment(server, state: "\(dir)/state", timeout: 10)
        for p in Self.providers { env["\(p.uppercased())_THREADS"] = String(Self.threads) }
        let arguments = ["submit", "--quiet", "--provider", Self.providers.joined(separator: ","), "--out", "out", "list.txt"]

        var kills = 0
        var lookupsBefore = 0
        for round in 0..<5 {
            let before = server.stats()
            let child = try LaunchedBinary(arguments, environment: env, directory: dir, label: "joined-kill-\(round)")
            let wanted = 20 + Int(rng.next() % 60)
            _ = await eventually(within: 20) { child.exited != nil || E2E.totalCreates(server.stats()) - E2E.totalCreates(before) >= wanted }
            guard child.exited == nil else { break }
            child.send(SIGKILL)
            kills += 1
            _ = await child.waitForExit()
            // What a kill can leave open per provider: each worker's request on the wire and the intent it
            // committed ahead, one domain each.
            let counts = try E2E.ledgerCounts(state: "\(dir)/state", run: "list")
            for provider in Self.providers {
                let open = counts[provider]?["sending"] ?? 0
                #expect(open <= 2 * Self.threads, "\(provider): \(open) pairs left sending by one kill")
            }
            lookupsBefore = Self.lookups(server.stats())
        }
        #expect(kills >= 3, "the runs finished before they could be killed")

        let rerun = try await BinaryRunner.run(arguments, environment: env, directory: dir)
        #expect(rerun.status == 0, "rerun: \(rerun.stderr)")
        let stats = server.stats()
        // The last kill's open intents were asked about, not resent blind.
        #expect(Self.lookups(stats) > lookupsBefore, "the rerun looked nothing up")
        for provider in Self.providers {
            #expect(E2E.duplicates(stats, provider).isEmpty, "\(provider) placed some domains twice")
            let missing = names.filter { stats.createCount(provider, $0) != 1 || E2E.state("\(dir)/out", $0, provider) != "accepted" }
            #expect(missing.isEmpty, "\(provider): \(missing.count) domains not placed exactly once and accepted: \(missing.prefix(5))")
        }
        let counts = try E2E.ledgerCounts(state: "\(dir)/state", run: "list")
        for provider in Self.providers {
            #expect(counts[provider] == ["accepted": names.count], "\(provider): \(counts[provider] ?? [:])")
        }
    }

    /// Requests of the providers under test that are not creates: without faults, only lookups.
    static func lookups(_ stats: SandboxStats) -> Int {
        providers.reduce(0) { sum, provider in
            sum + (stats.requests[provider] ?? [:]).values.reduce(0, +) - stats.totalCreates(provider)
        }
    }
}
