@testable import BoBatch
import BoBatchHTTP
@testable import BoBatchSandbox
import Foundation
import Testing

/// Dynadot's refresh and cancel round trips: the real client, built by the catalog as `submit --sandbox` builds
/// it, the real libcurl, the sandbox's Dynadot fake with its clock moved past the drops.
@Suite("Dynadot follow-up against the sandbox")
struct DynadotSandboxFollowUpTests {
    static func withDynadot(
        faults: ProviderFaults? = nil, _ body: (SandboxServer, any Provider) async throws -> Void
    ) async throws {
        let plan = faults.map { FaultPlan(providers: ["dynadot": $0]) } ?? .none
        let server = try await SandboxServer.start(SandboxOptions(faults: plan, logLevel: .critical))
        do {
            let provider = try #require(try ProviderCatalog.make(.dynadot, env: SandboxCredentials.environment(for: server), fastPacing: true)).provider
            try await body(server, provider)
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Places `names` with the real client, in batches of 100; the orders as the ledger would keep them.
    static func place(_ names: [String], with provider: any Provider, server: SandboxServer) async throws -> [PlacedOrder] {
        let domains = names.map { DomainName(validatedASCII: $0) }
        let placedAt = server.clock.now()
        for start in stride(from: 0, to: domains.count, by: 100) {
            let batch = domains[start..<min(start + 100, domains.count)]
            let result = await provider.submit(batch.map { BackorderItem(domain: $0) })
            guard case .settled(let verdicts) = result, verdicts.values.allSatisfy({ if case .accepted = $0 { true } else { false } }) else {
                Issue.record("placing failed: \(result)")
                throw CancellationError()
            }
        }
        return domains.map { PlacedOrder(domain: $0, placedAt: placedAt) }
    }

    static func fate(_ stage: BackorderDestiny.Phase.Stage) -> Fate {
        switch stage {
        case .waiting: .waiting
        case .inAuction: .inAuction
        case .won: .won
        case .lost: .lost
        case .redeemed: .redeemed
        }
    }

    /// Refreshes every order and checks each fate against the sandbox's ground truth; returns the fates seen.
    @discardableResult
    static func refreshMatchesTruth(_ orders: [PlacedOrder], provider: any Provider, server: SandboxServer) async -> [Fate: Int] {
        let result = await provider.refresh(orders, now: server.clock.now())
        let truth = server.truth(provider: "dynadot")
        guard case .fates(let reports) = result else {
            Issue.record("refresh: \(result)")
            return [:]
        }
        #expect(reports.count == orders.count)
        var seen: [Fate: Int] = [:]
        for order in orders {
            guard let phase = truth[order.domain.ascii], let report = reports[order.domain] else {
                Issue.record("\(order.domain): no truth or no report")
                continue
            }
            #expect(report.fate == fate(phase.stage), "\(order.domain): \(report) vs \(phase)")
            if phase.stage == .inAuction {
                #expect(report.price == "\(phase.price!).00")
                #expect(report.currency == "USD")
                #expect(report.endsAt == phase.auctionEnds)
            }
            if phase.stage == .won, phase.wasAuction { #expect(report.price == "\(phase.price!).00") }
            if phase.stage == .waiting {
                #expect(report.endsAt.map { abs($0.timeIntervalSince(phase.dropTime)) < 0.001 } == true)
            }
            seen[report.fate, default: 0] += 1
        }
        return seen
    }

    static let names = ["win-alpha.com", "lose-beta.net", "redeem-gamma.org", "auction-delta.com", "auction-epsilon.net"]
        + (0..<60).map { "follow-\($0)-drop.com" }

    @Test func everyFateMatchesTheSandboxBeforeDuringAndAfterTheAuctions() async throws {
        try await Self.withDynadot { server, provider in
            let orders = try await Self.place(Self.names, with: provider, server: server)
            let before = await Self.refreshMatchesTruth(orders, provider: provider, server: server)
            #expect(before == [.waiting: orders.count])
            let beforeRequests = server.stats().requestCount("dynadot", "get_open_backorder_auctions")
            #expect(beforeRequests == 0, "no order can be in an auction before the drops")

            // Past every drop (1 to 5 days after the start of the placement's day, so at most 6 days), auctions open or closed.
            server.clock.advance(to: 6 * 86_400)
            let during = await Self.refreshMatchesTruth(orders, provider: provider, server: server)
            #expect(during[.waiting] == nil)
            #expect((during[.won] ?? 0) > 0 && (during[.lost] ?? 0) > 0 && (during[.redeemed] ?? 0) > 0)

            // Every auction closed: they left the request list and answer from the closed auctions.
            server.clock.advance(to: 8 * 86_400)
            let after = await Self.refreshMatchesTruth(orders, provider: provider, server: server)
            #expect(after[.inAuction] == nil)
            #expect(after.values.reduce(0, +) == orders.count)
            #expect(server.truth(provider: "dynadot").values.contains { $0.wasAuction && $0.stage == .won })
        }
    }

    @Test func cancelBeforeTheDropRemovesOnceAndAgainIsStillCancelled() async throws {
        try await Self.withDynadot { server, provider in
            let orders = try await Self.place(["cancel-me-now.com", "keep-me-now.com"], with: provider, server: server)
            let first = await provider.cancel([orders[0]])
            #expect(first == .settled([orders[0].domain: .cancelled(message: "removed from the backorder request list")]))
            #expect(server.stats().cancelCount("dynadot", "cancel-me-now.com") == 1)

            let again = await provider.cancel([orders[0]])
            guard case .settled(let verdicts) = again, case .cancelled(let message) = verdicts[orders[0].domain] else {
                Issue.record("a second cancel is still cancelled: \(again)"); return
            }
            #expect(message.contains("not on your backorder request list"))
            #expect(server.stats().cancelCount("dynadot", "cancel-me-now.com") == 1)
            #expect(server.truth(provider: "dynadot").keys.sorted() == ["keep-me-now.com"])
            #expect(await provider.lookup(orders.map { BackorderItem(domain: $0.domain) }) == .found([orders[1].domain: ""]))
        }
    }

    @Test func cancelAfterTheDropIsRefusedInDynadotsWords() async throws {
        try await Self.withDynadot { server, provider in
            let orders = try await Self.place(["win-too-late.com"], with: provider, server: server)
            server.clock.advance(to: 6 * 86_400)
            let result = await provider.cancel(orders)
            guard case .settled(let verdicts) = result, case .refused(let message) = verdicts[orders[0].domain] else {
                Issue.record("past the drop is refused: \(result)"); return
            }
            #expect(message.contains("past the cutoff time"))
            #expect(server.stats().cancelCount("dynadot", "win-too-late.com") == 0)
            #expect(server.truth(provider: "dynadot")["win-too-late.com"]?.stage == .won)
        }
    }

    @Test func aBatchMixingGoneLateAndWaitingGetsAVerdictEach() async throws {
        try await Self.withDynadot { server, provider in
            // Two names whose drops are at least a day apart: the clock moves between them.
            let now = server.clock.now()
            let candidates = (0..<200).map { "win-mixed-\($0).com" }
            let drops = candidates.map { ($0, BackorderDestiny.dropTime(of: $0, placedAt: now)) }.sorted { $0.1 < $1.1 }
            let early = drops.first!, late = drops.last!
            try #require(late.1.timeIntervalSince(early.1) > 86_400)
            let orders = try await Self.place([early.0, late.0], with: provider, server: server)
            server.clock.advance(to: early.1.timeIntervalSince(now) + 60)

            let stranger = PlacedOrder(domain: DomainName(validatedASCII: "never-placed-here.com"), placedAt: now)
            let result = await provider.cancel([stranger, orders[0], orders[1]])
            guard case .settled(let verdicts) = result else { Issue.record("\(result)"); return }
            guard case .cancelled = verdicts[stranger.domain], case .refused = verdicts[orders[0].domain],
                  case .cancelled = verdicts[orders[1].domain] else {
                Issue.record("\(verdicts)"); return
            }
            #expect(server.stats().cancelCount("dynadot", late.0) == 1)
            #expect(server.stats().cancelCount("dynadot", early.0) == 0)
            #expect(server.truth(provider: "dynadot").keys.sorted() == [early.0])
        }
    }

    @Test func aCancelWhoseAnswerIsLostIsMaybeProcessedAndTheLookupProvesItGone() async throws {
        try await Self.withDynadot { server, provider in
            let orders = try await Self.place(["cut-answer-cancel.com"], with: provider, server: server)
            try server.setFaults(FaultPlan(providers: ["dynadot": ProviderFaults(dropAfterProcessing: 1)]))
            guard case .maybeProcessed = await provider.cancel(orders) else {
                Issue.record("a dropped answer must be maybeProcessed"); return
            }
            #expect(server.stats().cancelCount("dynadot", "cut-answer-cancel.com") == 1)
            #expect(await provider.lookup([BackorderItem(domain: orders[0].domain)]) == .found([:]))
        }
    }

    @Test func faultsOnTheFollowUpCallsAreClassifiedAsForCreates() async throws {
        try await Self.withDynadot { server, provider in
            let orders = try await Self.place(["fault-follow-up.com"], with: provider, server: server)
            // A refusal of the delete: nothing done, safe to send again.
            try server.setFaults(FaultPlan(providers: ["dynadot": ProviderFaults(refuse: 1)]))
            guard case .refused = await provider.cancel(orders) else { Issue.record("a refused delete is refused"); return }
            #expect(server.stats().cancelCount("dynadot", "fault-follow-up.com") == 0)
            // A 5xx or a cut answer to a listing: the fates stay as they were.
            try server.setFaults(FaultPlan(providers: ["dynadot": ProviderFaults(serverErrorAfterProcessing: 1, applyToLookups: true)]))
            guard case .unavailable = await provider.refresh(orders, now: server.clock.now()) else {
                Issue.record("a 5xx listing is unavailable"); return
            }
            try server.setFaults(FaultPlan(providers: ["dynadot": ProviderFaults(malformedAfterProcessing: 1, applyToLookups: true)]))
            guard case .unavailable = await provider.refresh(orders, now: server.clock.now()) else {
                Issue.record("a cut listing is unavailable"); return
            }
            try server.setFaults(.none)
            await Self.refreshMatchesTruth(orders, provider: provider, server: server)
        }
    }

    @Test func aSnapshotRestoredIntoANewSandboxKeepsOrdersAndFates() async throws {
        var snapshot: Data?
        var orders: [PlacedOrder] = []
        var offset: TimeInterval = 0
        try await Self.withDynadot { server, provider in
            orders = try await Self.place(Self.names, with: provider, server: server)
            snapshot = server.fake(named: "dynadot")?.snapshot()
            offset = server.clock.offset
        }
        let data = try #require(snapshot)
        try await Self.withDynadot { server, provider in
            try server.fake(named: "dynadot")?.restore(data)
            #expect(Set(server.truth(provider: "dynadot").keys) == Set(Self.names))
            server.clock.advance(to: offset + 6 * 86_400)
            let fates = await Self.refreshMatchesTruth(orders, provider: provider, server: server)
            #expect(fates.values.reduce(0, +) == orders.count)
            #expect(fates[.waiting] == nil)
        }
    }
}
