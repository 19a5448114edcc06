import BoBatchHTTP
import Foundation
import Testing

@testable import BoBatch
@testable import BoBatchSandbox

// Issue 11 for Gname, 1API and DNSPod: what `refresh` and `cancel` make of the providers' answers (seed-shaped
// canned answers), and round trips with the real client and libcurl against the sandbox, whose clock moves past
// the drops.

private let fixedNow = Date(timeIntervalSince1970: 1_700_000_000)
private func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }
private func order(_ name: String, _ reference: String? = nil) -> PlacedOrder {
    PlacedOrder(domain: domain(name), reference: reference, placedAt: fixedNow)
}

private func gname(_ transport: ScriptedTransport) -> GnameProvider {
    GnameProvider(
        config: GnameConfig(appID: "100abc", appKey: "s3cr3t-KEY", channel: "1", endpoint: "https://api.gname.com", bulk: false, maxPrice: nil),
        transport: transport, now: { fixedNow })
}

private func oneapi(_ transport: ScriptedTransport) -> OneAPIProvider {
    OneAPIProvider(
        config: OneAPIConfig(login: "test.user", password: "pa55-w0rd", entity: .test, endpoint: OneAPIConfig.defaultEndpoint, cutoffHours: 3),
        transport: transport, now: { fixedNow })
}

/// Seed 000's success answer with `zt`/`ztstr` replaced.
private func gnameInfo(zt: String, ztstr: String, ym: String = "gname.com") -> String {
    """
    {"code":1,"msg":"OK","data":{"id":"3313994","ym":"\(ym)","zt":"\(zt)","td":"2","sclx":"1","scsj":"2021-08-05",\
    "qian":"28.00","dqian":"0.00","sj":"2021-08-02 22:19:54","ztstr":"\(ztstr)","sclxstr":"Delete"}}
    """
}

private func fates(_ result: RefreshResult) -> [DomainName: FateReport] {
    if case .fates(let reports) = result { return reports }
    Issue.record("expected fates, got \(result)")
    return [:]
}

@Suite("Gname follow-up")
struct GnameFollowUpTests {
    @Test func offersOneOrderPerRefreshAndNoCancel() {
        let support = gname(ScriptedTransport(body: "")).followUp
        #expect(support.refreshBatch == 1)
        #expect(support.cancelBatch == nil)
        #expect(support.cancelNote?.contains("web console") == true)
    }

    @Test(arguments: [
        ("0", "in backorder", Fate.waiting), ("1", "directly won", .won), ("2", "auction won", .won),
        ("3", "in auction", .inAuction), ("4", "others won", .lost), ("5", "auction lost", .lost),
        ("6", "redeemed", .redeemed), ("7", "dropcatch lost", .lost), ("9", "something new", .unknown),
    ])
    func seedStatusTable(zt: String, ztstr: String, fate: Fate) async throws {
        let transport = ScriptedTransport(body: gnameInfo(zt: zt, ztstr: ztstr))
        let report = try #require(fates(await gname(transport).refresh([order("gname.com")], now: fixedNow))[domain("gname.com")])
        #expect(report.fate == fate)
        #expect(report.detail.contains(ztstr))
        #expect(report.price == "28.00")
        #expect(report.frozen == "0.00")
        #expect(report.currency == "CNY")
        #expect(report.reference == "3313994")
        #expect(transport.requests.count == 1)
        #expect(transport.requests[0].url.hasSuffix("/api/backorder/info"))
        #expect(transport.requests[0].formFields["ym"] == "gname.com")
    }

    @Test func noRecordIsGoneBusyIsRefusedSignatureHalts() async {
        let absent = await gname(ScriptedTransport(body: #"{"code":-1,"msg":"no backorder record","data":""}"#)).refresh([order("a.com")], now: fixedNow)
        #expect(fates(absent)[domain("a.com")]?.fate == .gone)
        let busy = await gname(ScriptedTransport(body: #"{"code":-1,"msg":"frequency too high, please try again later","data":""}"#)).refresh([order("a.com")], now: fixedNow)
        guard case .refused = busy else { Issue.record("busy: \(busy)"); return }
        let limited = await gname(ScriptedTransport(status: 429, body: "slow down")).refresh([order("a.com")], now: fixedNow)
        guard case .refused = limited else { Issue.record("429: \(limited)"); return }
        let signature = await gname(ScriptedTransport(body: #"{"code":-1,"msg":"signature error","data":""}"#)).refresh([order("a.com")], now: fixedNow)
        guard case .halt = signature else { Issue.record("signature: \(signature)"); return }
        let cut = await gname(ScriptedTransport(body: #"{"code":1,"msg":"OK","data":{"id":"33"#)).refresh([order("a.com")], now: fixedNow)
        guard case .unavailable = cut else { Issue.record("cut: \(cut)"); return }
    }
}

@Suite("1API follow-up")
struct OneAPIFollowUpTests {
    /// QueryDomainApplicationList's documented example answer.
    static let documentedList = """
        [RESPONSE]
        CODE = 200
        DESCRIPTION = Command completed successfully
        PROPERTY[FIRST][0] = 0
        PROPERTY[LAST][0] = 1
        PROPERTY[COUNT][0] = 2
        PROPERTY[TOTAL][0] = 2
        PROPERTY[LIMIT][0] = 2
        PROPERTY[APPLICATION][0] = 10698
        PROPERTY[APPLICATION][1] = 10699
        PROPERTY[CLASS][0] = ASIA_BACKORDER
        PROPERTY[CLASS][1] = COM_BACKORDER
        PROPERTY[DOMAIN][0] = hexonet-application.asia
        PROPERTY[DOMAIN][1] = hexonet-application.com
        PROPERTY[STATUS][0] = REQUESTED
        PROPERTY[STATUS][1] = ACTIVE
        EOF

        """

    @Test func offersListRefreshAndOneDeletePerCancel() {
        let support = oneapi(ScriptedTransport(body: "")).followUp
        #expect(support.refreshBatch == 100)
        #expect(support.cancelBatch == 1)
    }

    @Test(arguments: [
        ("REQUESTED", Fate.waiting), ("ACTIVE", .waiting), ("PROCESSING", .waiting), ("AUCTION-PENDING", .inAuction),
        ("AUCTION-WON", .won), ("SUCCESSFUL", .won), ("AUCTION-LOST", .lost), ("FAILED", .lost), ("whatever", .unknown),
    ])
    func statusVocabulary(status: String, fate: Fate) {
        #expect(OneAPIProvider.fate(ofStatus: status) == fate)
    }

    @Test func documentedListAnswersEveryAskedOrderInOneRequest() async {
        let transport = ScriptedTransport(body: Self.documentedList)
        let result = await oneapi(transport).refresh(
            [order("hexonet-application.com", "10699"), order("hexonet-application.asia"), order("other.com", "5")], now: fixedNow)
        let reports = fates(result)
        #expect(reports[domain("hexonet-application.com")] == FateReport(fate: .waiting, detail: "ACTIVE", reference: "10699"))
        // No reference kept: found by domain, and its id handed back.
        #expect(reports[domain("hexonet-application.asia")] == FateReport(fate: .waiting, detail: "REQUESTED", reference: "10698"))
        #expect(reports[domain("other.com")]?.fate == .gone)
        #expect(transport.requests.count == 1)
        let fields = transport.requests[0].formFields
        #expect(fields["command"] == "QueryDomainApplicationList")
        #expect(fields["domain0"] == "hexonet-application.com")
        #expect(fields["domain2"] == "other.com")
    }

    /// A list page of `rows` (application, domain, status) claiming `total` applications in all.
    static func page(_ rows: [(String, String, String)], total: Int) -> String {
        var lines = ["[RESPONSE]", "CODE=200", "DESCRIPTION=Command completed successfully", "PROPERTY[TOTAL][0]=\(total)"]
        for (i, row) in rows.enumerated() {
            lines += ["PROPERTY[APPLICATION][\(i)]=\(row.0)", "PROPERTY[DOMAIN][\(i)]=\(row.1)", "PROPERTY[STATUS][\(i)]=\(row.2)"]
        }
        return (lines + ["EOF", ""]).joined(separator: "\r\n")
    }

    @Test func pagesUntilTheTotalIsRead() async {
        let transport = ScriptedTransport { request throws(TransportError) in
            let body = request.formFields["first"] == "0"
                ? OneAPIFollowUpTests.page([("1", "a.com", "FAILED"), ("2", "b.com", "ACTIVE")], total: 3)
                : OneAPIFollowUpTests.page([("3", "a.com", "SUCCESSFUL")], total: 3)
            return HTTPResponse(status: 200, headers: [:], body: Array(body.utf8))
        }
        let reports = fates(await oneapi(transport).refresh([order("a.com"), order("b.com", "2"), order("c.com", "9")], now: fixedNow))
        #expect(transport.requests.map { $0.formFields["first"] } == ["0", "2"])
        // No kept id: the domain's newest application (3, placed again after 1 failed).
        #expect(reports[domain("a.com")] == FateReport(fate: .won, detail: "SUCCESSFUL", reference: "3"))
        #expect(reports[domain("b.com")]?.fate == .waiting)
        #expect(reports[domain("c.com")]?.fate == .gone)
    }

    @Test func aListLongerThanItsPagesLeavesTheMissingUnknown() async {
        let transport = ScriptedTransport { request throws(TransportError) in
            let first = request.formFields["first"] ?? "0"
            let body = OneAPIFollowUpTests.page([("\(first)", "a.com", "ACTIVE")], total: 1_000_000)
            return HTTPResponse(status: 200, headers: [:], body: Array(body.utf8))
        }
        let reports = fates(await oneapi(transport).refresh([order("a.com"), order("z.com", "7")], now: fixedNow))
        #expect(transport.requests.count == OneAPIProvider.refreshMaxPages)
        #expect(reports[domain("a.com")]?.fate == .waiting)
        #expect(reports[domain("z.com")]?.fate == .unknown)
    }

    @Test func listFailuresAreClassified() async {
        func refresh(_ body: String, status: Int = 200) async -> RefreshResult {
            await oneapi(ScriptedTransport(status: status, body: body)).refresh([order("a.com", "1")], now: fixedNow)
        }
        guard case .refused = await refresh("[RESPONSE]\ncode = 425\ndescription = usage exceeded\nEOF\n") else { Issue.record("425"); return }
        guard case .halt = await refresh("[RESPONSE]\ncode = 530\ndescription = Authentication failed\nEOF\n") else { Issue.record("530"); return }
        guard case .unavailable = await refresh("[RESPONSE]\ncode = 200\nproperty[application][0] = 1\n") else { Issue.record("cut"); return }
        guard case .unavailable = await refresh("oops", status: 502) else { Issue.record("502"); return }
    }

    @Test func deleteAnswers() async {
        func cancel(_ body: String, reference: String? = "10696") async -> CancelResult {
            await oneapi(ScriptedTransport(body: body)).cancel([order("hexonet-backorder.com", reference)])
        }
        let done = await cancel("[RESPONSE]\nCODE = 200\nDESCRIPTION = Command completed successfully\nPROPERTY[DOMAIN][0] = hexonet-backorder.com\nEOF\n")
        guard case .settled(let a) = done, case .cancelled? = a[domain("hexonet-backorder.com")] else { Issue.record("200: \(done)"); return }
        let gone = await cancel("[RESPONSE]\ncode=545\ndescription=Object does not exist; APPLICATION 10696\nEOF\n")
        guard case .settled(let b) = gone, case .cancelled? = b[domain("hexonet-backorder.com")] else { Issue.record("545: \(gone)"); return }
        let late = await cancel("[RESPONSE]\ncode=552\ndescription=Object status does not allow for operation\nEOF\n")
        guard case .settled(let c) = late, case .refused(let why)? = c[domain("hexonet-backorder.com")] else { Issue.record("552: \(late)"); return }
        #expect(why.contains("Object status does not allow for operation"))
        guard case .refused = await cancel("[RESPONSE]\ncode=421\ndescription=try again\nEOF\n") else { Issue.record("421"); return }
        guard case .maybeProcessed = await cancel("[RESPONSE]\ncode=200\n") else { Issue.record("cut"); return }
        guard case .halt = await cancel("[RESPONSE]\ncode=531\ndescription=Authorization failed\nEOF\n") else { Issue.record("531"); return }
    }

    @Test func cancelWithoutReferenceFindsTheApplicationFirst() async {
        let transport = ScriptedTransport { request throws(TransportError) in
            let body = request.formFields["command"] == "QueryDomainApplicationList"
                ? OneAPIFollowUpTests.documentedList
                : "[RESPONSE]\nCODE = 200\nDESCRIPTION = Command completed successfully\nEOF\n"
            return HTTPResponse(status: 200, headers: [:], body: Array(body.utf8))
        }
        let result = await oneapi(transport).cancel([order("hexonet-application.com")])
        guard case .settled(let verdicts) = result, case .cancelled? = verdicts[domain("hexonet-application.com")] else {
            Issue.record("\(result)")
            return
        }
        #expect(transport.requests.map { $0.formFields["command"] } == ["QueryDomainApplicationList", "DeleteDomainApplication"])
        #expect(transport.requests[1].formFields["application"] == "10699")
    }
}

@Suite("DNSPod follow-up")
struct DNSPodFollowUpTests {
    @Test func offersNothingAndSaysWhy() async throws {
        try await withProvider(.dnspod) { _, provider in
            let support = provider.followUp
            #expect(support.refreshBatch == nil && support.cancelBatch == nil)
            #expect(support.refreshNote?.contains("not a backorder") == true)
            #expect(support.cancelNote?.contains("cannot be withdrawn") == true)
        }
    }
}

// MARK: sandbox round trips

/// The fate a provider can report for where the sandbox says an order stands (1API has no word for a renewal:
/// its FAILED covers it, so a redeemed order reads lost there).
private func expectedFate(_ phase: BackorderDestiny.Phase, provider: ProviderID) -> Fate {
    switch phase.stage {
    case .waiting: .waiting
    case .inAuction: .inAuction
    case .won: .won
    case .lost: .lost
    case .redeemed: provider == .oneapi ? .lost : .redeemed
    }
}

private func withProvider(
    _ id: ProviderID, _ body: (SandboxServer, any Provider) async throws -> Void
) async throws {
    let server = try await SandboxServer.start(SandboxOptions(logLevel: .critical))
    do {
        var env = SandboxCredentials.environment(for: server)
        env["DNSPOD_EMAIL_AUTO"] = "1"
        let setup = try #require(try ProviderCatalog.make(id, env: env, fastPacing: true))
        try await body(server, setup.provider)
        await server.shutdown()
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Places each name with the real client; returns the orders as the ledger would keep them.
private func place(_ provider: any Provider, _ names: [String]) async throws -> [PlacedOrder] {
    var orders: [PlacedOrder] = []
    for name in names {
        let result = await provider.submit([BackorderItem(domain: domain(name))])
        guard case .settled(let verdicts) = result, case .accepted(let reference, _)? = verdicts[domain(name)] else {
            throw ConfigurationError("placing \(name): \(result)")
        }
        orders.append(PlacedOrder(domain: domain(name), reference: reference, placedAt: Date()))
    }
    return orders
}

private func refreshAll(_ provider: any Provider, _ orders: [PlacedOrder]) async throws -> [DomainName: FateReport] {
    var reports: [DomainName: FateReport] = [:]
    let size = provider.followUp.refreshBatch ?? 1
    for start in stride(from: 0, to: orders.count, by: size) {
        let result = await provider.refresh(Array(orders[start..<min(orders.count, start + size)]), now: Date())
        guard case .fates(let some) = result else { throw ConfigurationError("refresh: \(result)") }
        reports.merge(some) { a, _ in a }
    }
    return reports
}

private let roundTripNames = ["winner-fu-drop.com", "lose-fu-drop.com", "redeem-fu-drop.com", "auction-fu-drop.com"]
    + (0..<16).map { "fu-\($0)-drop.com" }

@Suite("Follow-up against the sandbox: Gname, 1API")
struct SandboxFollowUpRoundTrips {
    @Test(arguments: [ProviderID.gname, .oneapi])
    func refreshMatchesTheSandboxTruthBeforeAndAfterTheDrop(id: ProviderID) async throws {
        try await withProvider(id) { server, provider in
            let orders = try await place(provider, roundTripNames)
            for (offset, label) in [(0.0, "now"), (6 * 86_400.0, "+6d"), (8 * 86_400.0, "+8d")] {
                server.clock.advance(to: offset)
                let reports = try await refreshAll(provider, orders)
                let truth = server.truth(provider: id.rawValue)
                #expect(truth.count == orders.count)
                for order in orders {
                    let phase = try #require(truth[order.domain.ascii])
                    let report = try #require(reports[order.domain])
                    #expect(report.fate == expectedFate(phase, provider: id), "\(label) \(order.domain.ascii): \(report) vs \(phase)")
                    if report.fate == .won, phase.wasAuction || id == .gname {
                        #expect(report.price == "\(phase.price!).00", "\(order.domain.ascii)")
                    }
                    if report.fate == .inAuction, id == .oneapi {
                        let ends = try #require(report.endsAt)
                        #expect(abs(ends.timeIntervalSince(phase.auctionEnds!)) < 1)
                    }
                    #expect(report.reference == order.reference || order.reference == nil)
                }
                if offset == 0 { #expect(reports.values.allSatisfy { $0.fate == .waiting }) }
                // The names decide some outcomes (`winner…` won, `lose…` lost): past every drop there is variety.
                if offset > 0 { #expect(Set(reports.values.map(\.fate)).isSuperset(of: [.won, .lost])) }
            }
            // Gname: one info per order per refresh; 1API: one list for all 20 orders per refresh (plus a status
            // call per auction, for its amounts).
            let stats = server.stats()
            if id == .gname { #expect(stats.requestCount("gname", "info") == 3 * orders.count) }
            if id == .oneapi { #expect(stats.requestCount("oneapi", "QueryDomainApplicationList") == 3) }
        }
    }

    @Test func oneAPICancelBeforeTheDropOnceThenNotFoundThenRefusedAfter() async throws {
        try await withProvider(.oneapi) { server, provider in
            let orders = try await place(provider, ["keep-fu-drop.com", "drop-me-fu-drop.com", "nil-ref-fu-drop.com"])
            let target = orders[1]
            let first = await provider.cancel([target])
            guard case .settled(let v1) = first, case .cancelled? = v1[target.domain] else { Issue.record("\(first)"); return }
            #expect(server.stats().cancelCount("oneapi", target.domain.ascii) == 1)
            let again = await provider.cancel([target])
            guard case .settled(let v2) = again, case .cancelled? = v2[target.domain] else { Issue.record("\(again)"); return }
            #expect(server.stats().cancelCount("oneapi", target.domain.ascii) == 1)
            #expect(server.truth(provider: "oneapi")[target.domain.ascii] == nil)

            // No reference kept: found by domain, then deleted.
            var unknownID = orders[2]
            unknownID.reference = nil
            let byDomain = await provider.cancel([unknownID])
            guard case .settled(let v3) = byDomain, case .cancelled? = v3[unknownID.domain] else { Issue.record("\(byDomain)"); return }
            #expect(server.stats().cancelCount("oneapi", unknownID.domain.ascii) == 1)

            server.clock.advance(to: 6 * 86_400)
            let late = await provider.cancel([orders[0]])
            guard case .settled(let v4) = late, case .refused? = v4[orders[0].domain] else { Issue.record("\(late)"); return }
            #expect(server.stats().cancelCount("oneapi", orders[0].domain.ascii) == 0)
            // The cancelled one is no longer listed: gone to a refresh.
            let reports = try await refreshAll(provider, orders)
            #expect(reports[target.domain]?.fate == .gone)
        }
    }

    @Test func oneAPICancelWhoseAnswerIsLostIsMaybeProcessedAndTheLookupSettlesIt() async throws {
        try await withProvider(.oneapi) { server, provider in
            let orders = try await place(provider, ["lost-answer-fu-drop.com"])
            try server.setFaults(FaultPlan(providers: ["oneapi": .only(.dropAfterProcessing, retryAfterSeconds: 1)]))
            let result = await provider.cancel(orders)
            guard case .maybeProcessed = result else { Issue.record("\(result)"); return }
            try server.setFaults(.none)
            #expect(server.stats().cancelCount("oneapi", orders[0].domain.ascii) == 1)
            let lookup = await provider.lookup([BackorderItem(domain: orders[0].domain)])
            #expect(lookup == .found([:]))
        }
    }

    @Test func gnameSaysItHasNoCancel() async throws {
        try await withProvider(.gname) { server, provider in
            let orders = try await place(provider, ["no-cancel-fu-drop.com"])
            #expect(provider.followUp.cancelBatch == nil)
            // The engine never sends it (cancelBatch nil); a broken caller is stopped before anything is sent.
            guard case .halt = await provider.cancel(orders) else { Issue.record("expected halt"); return }
            #expect(server.stats().cancels.isEmpty)
        }
    }

    @Test(arguments: [ProviderID.gname, .oneapi])
    func snapshotRestoreKeepsOrdersAndFates(id: ProviderID) async throws {
        var saved: Data?
        var orders: [PlacedOrder] = []
        var before: [String: BackorderDestiny.Phase] = [:]
        try await withProvider(id) { server, provider in
            orders = try await place(provider, roundTripNames)
            server.clock.advance(to: 6 * 86_400)
            before = server.truth(provider: id.rawValue)
            saved = try #require(server.fake(named: id.rawValue)).snapshot()
        }
        let data = try #require(saved)
        try await withProvider(id) { server, provider in
            try #require(server.fake(named: id.rawValue)).restore(data)
            server.clock.advance(to: 6 * 86_400)
            let after = server.truth(provider: id.rawValue)
            #expect(Set(after.keys) == Set(before.keys))
            for (name, phase) in before { #expect(after[name]?.stage == phase.stage, "\(name)") }
            let reports = try await refreshAll(provider, orders)
            for order in orders {
                #expect(reports[order.domain]?.fate == expectedFate(after[order.domain.ascii]!, provider: id))
                #expect(reports[order.domain]?.reference == order.reference || order.reference == nil)
            }
        }
    }

    @Test func dnspodSnapshotKeepsTheMailsSent() async throws {
        var saved: Data?
        try await withProvider(.dnspod) { server, provider in
            _ = await provider.submit([BackorderItem(domain: domain("mail-fu-drop.com"))])
            #expect(server.dnspodVerificationCodes(for: "mail-fu-drop.com").count == 1)
            saved = try #require(server.fake(named: "dnspod")).snapshot()
        }
        try await withProvider(.dnspod) { server, _ in
            try #require(server.fake(named: "dnspod")).restore(try #require(saved))
            #expect(server.dnspodVerificationCodes(for: "mail-fu-drop.com").count == 1)
            #expect(server.truth(provider: "dnspod").isEmpty)
        }
    }
}
