@testable import BoBatch
import BoBatchHTTP
@testable import BoBatchSandbox
import Foundation
import Testing

/// One `refresh` of a whole 100,000-order Dynadot account through the real client and libcurl, against a sandbox
/// seeded through the fake's restore (not 1,000 creates). Prints the time and the process's peak RSS (reset just
/// before, so it is this refresh's peak: the sandbox's answer and the client's reading of it, in one process).
/// 20,000 orders in the suite; `BO_BATCH_DYNADOT_REFRESH_ORDERS=100000` for the figures README quotes.
@Suite("Dynadot refresh at scale")
struct DynadotRefreshScaleTests {
    static var count: Int {
        ProcessInfo.processInfo.environment["BO_BATCH_DYNADOT_REFRESH_ORDERS"].flatMap(Int.init) ?? 20_000
    }

    /// The fake's memory as ``DynadotFake/snapshot()`` writes it: `count` orders placed `daysAgo` days ago.
    static func memory(count: Int, placedAt: Date) -> Data {
        var json = "{\"accounts\":{\"\(SandboxCredentials.dynadotKey)\":["
        json.reserveCapacity(count * 110)
        let placedMs = Int64(placedAt.timeIntervalSince1970 * 1000)
        for index in 0..<count {
            let domain = "scale-\(index)-drop.com"
            let cutoff = Int64(BackorderDestiny.dropTime(of: domain, placedAt: placedAt).timeIntervalSince1970 * 1000)
            if index > 0 { json += "," }
            json += "{\"domain\":\"\(domain)\",\"cutoffMs\":\(cutoff),\"placedAt\":\(placedMs),\"sequence\":\(index)}"
        }
        return Data((json + "]}}").utf8)
    }

    /// Peak resident memory of this process in KiB (`VmHWM`).
    static func peakRSS() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func currentRSS() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test func refreshOfAWholeAccountIsOneListingParsedAsItStreams() async throws {
        let count = Self.count
        let server = try await SandboxServer.start(SandboxOptions(logLevel: .critical))
        do {
            let provider = try #require(try ProviderCatalog.make(.dynadot, env: SandboxCredentials.environment(for: server), fastPacing: true)).provider
            let placedAt = server.clock.now()
            try server.fake(named: "dynadot")?.restore(Self.memory(count: count, placedAt: placedAt))
            let orders = (0..<count).map { PlacedOrder(domain: DomainName(validatedASCII: "scale-\($0)-drop.com"), placedAt: placedAt) }

            // What the sandbox and the transfer cost alone: the same listing fetched, not read.
            let transport = CurlTransport(userAgent: "bo-batch-test")
            let listURL = server.endpoint(for: "dynadot") + "?key=\(SandboxCredentials.dynadotKey)&command=backorder_request_list"
            let fetchStart = ContinuousClock.now
            let raw = try await transport.send(HTTPRequest(method: .get, url: listURL, headers: [], timeoutSeconds: 120, idempotent: true,
                                                           maxResponseBytes: 256 << 20, secrets: []))
            print("dynadot list of \(count) requests: \(raw.body.count / 1024) KiB, served and fetched in \(ContinuousClock.now - fetchStart)")

            // Before the drops: every order is waiting, answered by the request list alone.
            try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
            let rssBefore = Self.currentRSS()
            let clock = ContinuousClock()
            let start = clock.now
            let result = await provider.refresh(orders, now: server.clock.now())
            let elapsed = clock.now - start
            let peak = Self.peakRSS()
            guard case .fates(let reports) = result else { Issue.record("\(result)"); throw CancellationError() }
            #expect(reports.count == count)
            #expect(reports.values.allSatisfy { $0.fate == .waiting })
            print("dynadot refresh of \(count) orders (all waiting, 1 request): \(elapsed), RSS before \(rssBefore / 1024) MiB, peak \(peak / 1024) MiB")

            // After them: a fifth are in an auction, which costs the auction listings as well.
            server.clock.advance(to: 6 * 86_400)
            try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
            let rssAfter = Self.currentRSS()
            // The sandbox's clock runs on while the refresh reads: an auction may close between its answer and the
            // truth taken after it, so each fate must be the truth before or after.
            let truthBefore = server.truth(provider: "dynadot")
            let start2 = clock.now
            let result2 = await provider.refresh(orders, now: server.clock.now())
            let elapsed2 = clock.now - start2
            let peak2 = Self.peakRSS()
            guard case .fates(let reports2) = result2 else { Issue.record("\(result2)"); throw CancellationError() }
            #expect(reports2.count == count)
            let truthAfter = server.truth(provider: "dynadot")
            var mismatches = 0
            for (domain, report) in reports2 {
                let before = DynadotSandboxFollowUpTests.fate(truthBefore[domain.ascii]!.stage)
                let after = DynadotSandboxFollowUpTests.fate(truthAfter[domain.ascii]!.stage)
                if report.fate != before, report.fate != after { mismatches += 1 }
            }
            #expect(mismatches == 0)
            let requests = server.stats()
            print("dynadot refresh of \(count) orders after the drops (\(requests.requestCount("dynadot", "get_open_backorder_auctions")) open + \(requests.requestCount("dynadot", "get_closed_backorder_auctions")) closed auction listings): \(elapsed2), RSS before \(rssAfter / 1024) MiB, peak \(peak2 / 1024) MiB")
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// The memory guarantee in a form that does not time anything: the whole-account refresh (as the lane calls
    /// it, through the redacting wrapper) never hands over more than one slice of reports at once, and hands each
    /// order exactly one report, auction listings included. The lane records each slice and lets it go.
    @Test func theWholeAccountRefreshHandsReportsOverASliceAtATime() async throws {
        let count = 5_000
        let server = try await SandboxServer.start(SandboxOptions(logLevel: .critical))
        do {
            let provider = try #require(try ProviderCatalog.make(.dynadot, env: SandboxCredentials.environment(for: server), fastPacing: true)).provider
            #expect(provider.followUp.refreshStreams)
            let placedAt = server.clock.now()
            try server.fake(named: "dynadot")?.restore(Self.memory(count: count, placedAt: placedAt))
            let orders = OrderSet((0..<count).map { PlacedOrder(domain: DomainName(validatedASCII: "scale-\($0)-drop.com"), placedAt: placedAt) })
            server.clock.advance(to: 6 * 86_400)
            let slices = SliceCounter(count: count)
            let result = await provider.refresh(orders, now: server.clock.now(), into: slices.add)
            #expect(result == .fates([:]))
            let (largest, handed, answered, auctions) = slices.totals
            #expect(largest <= FateSlicer.size)
            #expect(handed == count, "one report per order, none twice")
            #expect(answered == count)
            #expect(auctions > 0, "the auction listings' reports came as slices too")
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }
}

/// Counts what a ``FateSink`` is handed: the largest slice, and how many reports each order got.
private final class SliceCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var largest = 0
    private var perOrder: [Int]
    private var auctions = 0

    init(count: Int) { perOrder = [Int](repeating: 0, count: count) }

    func add(_ slice: [(index: Int, report: FateReport)]) {
        lock.withLock {
            largest = max(largest, slice.count)
            for (index, report) in slice {
                perOrder[index] += 1
                if report.detail.contains("auction") { auctions += 1 }
            }
        }
    }

    var totals: (largest: Int, handed: Int, answered: Int, auctions: Int) {
        lock.withLock { (largest, perOrder.reduce(0, +), perOrder.filter { $0 == 1 }.count, auctions) }
    }
}
