import BoBatchHTTP
import BoBatchSandbox
import Foundation
import Testing

@testable import BoBatch

private let password = "pa$$ w0rd&=secret"
private let fixedNow = Date(timeIntervalSince1970: 1_700_000_000)  // 2023-11-14T22:13:20Z
private let uuidA = "31347d42-00bd-44a5-9b5c-20dc4197a2f6"
private let uuidB = "0f8b2c1e-6d7a-4c55-9e0b-1a2b3c4d5e6f"

private func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }

private func yay(_ transport: ScriptedTransport) -> YayProvider {
    YayProvider(
        config: YayConfig(reseller: "R123", user: "bob", password: password, endpoint: "https://api.yay.com"),
        transport: transport, now: { fixedNow })
}

private func order(_ name: String, _ reference: String? = nil, drop: String? = nil) -> PlacedOrder {
    PlacedOrder(domain: domain(name), reference: reference, dropTime: drop.flatMap(YayDay.parse), placedAt: fixedNow.addingTimeInterval(-86_400))
}

/// The seed's list shape.
private let seedList = #"""
    {"result":[
      {"domain_name":"example.com","expires_on":"2023-11-20","uuid":"31347d42-00bd-44a5-9b5c-20dc4197a2f6","created_on":"2023-11-10","updated_on":"2023-11-10"},
      {"domain_name":"Found-By-Name.com","expires_on":"2023-11-21","uuid":"0f8b2c1e-6d7a-4c55-9e0b-1a2b3c4d5e6f","created_on":"2023-11-10","updated_on":"2023-11-10"}
    ],"status_code":200,"status_message":"OK"}
    """#

@Suite("Yay follow-up: refresh")
struct YayRefreshTests {
    @Test func listedOrdersWaitAndUnlistedOnesAreGoneOrUnknown() async throws {
        let transport = ScriptedTransport(status: 200, body: seedList)
        let orders = [
            order("example.com", uuidA),
            order("found-by-name.com"),
            order("dropped.com", "aaaaaaaa-0000-0000-0000-000000000001", drop: "2023-11-14"),
            order("no-drop-known.com", "aaaaaaaa-0000-0000-0000-000000000002"),
            order("early.com", "aaaaaaaa-0000-0000-0000-000000000003", drop: "2023-11-15"),
        ]
        let result = await RedactingProvider(yay(transport)).refresh(orders, now: fixedNow)
        guard case .fates(let fates) = result else { Issue.record("\(result)"); return }
        #expect(fates.count == 5)
        #expect(fates[domain("example.com")] == FateReport(
            fate: .waiting, detail: "listed as an active back-order (expires_on 2023-11-20)", endsAt: YayDay.parse("2023-11-20")))
        #expect(fates[domain("found-by-name.com")]?.fate == .waiting)
        #expect(fates[domain("found-by-name.com")]?.reference == uuidB)
        #expect(fates[domain("dropped.com")]?.fate == .gone)
        #expect(fates[domain("dropped.com")]?.detail == "Yay.com no longer lists it and cannot say why (its drop date 2023-11-14 has come)")
        #expect(fates[domain("no-drop-known.com")]?.fate == .gone)
        #expect(fates[domain("early.com")]?.fate == .unknown)
        #expect(fates[domain("early.com")]?.detail.contains("before its drop date 2023-11-15") == true)

        #expect(transport.requests.count == 1)
        let request = try #require(transport.requests.first)
        #expect(request.method == .get)
        #expect(request.url == "https://api.yay.com/dom/back-order")
        #expect(request.idempotent)
        #expect(request.maxResponseBytes >= 64 << 20)
        #expect(YayProvider(config: YayConfig(reseller: "r", user: "u", password: "p"), transport: transport).followUp
            == FollowUpSupport(refreshBatch: Int.max, cancelBatch: 1))
    }

    @Test func aKeptUUIDThatMovedToAnotherDomainEntryIsFoundByName() async {
        // The ledger's uuid is not listed but the domain is (placed again by hand): still waiting, new uuid.
        let transport = ScriptedTransport(status: 200, body: seedList)
        let result = await yay(transport).refresh([order("example.com", "bbbbbbbb-0000-0000-0000-000000000009")], now: fixedNow)
        #expect(result == .fates([domain("example.com"): FateReport(
            fate: .waiting, detail: "listed as an active back-order (expires_on 2023-11-20)", endsAt: YayDay.parse("2023-11-20"), reference: uuidA)]))
    }

    @Test func failuresKeepTheFates() async {
        let asked = [order("example.com", uuidA)]
        guard case .halt = await yay(ScriptedTransport(status: 401, body: #"{"result":{},"status_code":401,"status_message":"Unauthorized"}"#)).refresh(asked, now: fixedNow) else {
            Issue.record("401"); return
        }
        #expect(await yay(ScriptedTransport(status: 429, body: "", headers: ["retry-after": "7"])).refresh(asked, now: fixedNow)
            == .refused(reason: "GET /dom/back-order: Yay.com answered HTTP 429 (too many requests), Retry-After 7 s", retryAfterSeconds: 7))
        guard case .unavailable = await yay(ScriptedTransport(status: 502, body: "<html>bad gateway</html>")).refresh(asked, now: fixedNow) else {
            Issue.record("502"); return
        }
        guard case .unavailable = await yay(ScriptedTransport(status: 200, body: #"{"status_code":200}"#)).refresh(asked, now: fixedNow) else {
            Issue.record("no result"); return
        }
        let lost = ScriptedTransport { _ throws(TransportError) in throw TransportError(kind: .maybeProcessed, message: "reset", code: 56) }
        guard case .unavailable = await yay(lost).refresh(asked, now: fixedNow) else { Issue.record("lost"); return }
    }
}

@Suite("Yay follow-up: the list read for refresh")
struct YayActiveListTests {
    @Test(arguments: [
        seedList,
        #"{"result":[],"status_code":200,"status_message":"OK"}"#,
        #"{"result":[{"domain":" spaced.com ","uuid":12345,"expires_on":"2023-11-20"},{"uuid":"no-domain"},7,{"domain_name":"b.com"}],"status_code":"200"}"#,
        #"{"result":[{"domain_name":"a.com","uuid":"  ","expires_on":null}]}"#,
    ])
    func decodesAsTheEnvelopeReaderDoes(body: String) throws {
        let lean = try #require(YayActiveList.decode(Array(body.utf8)))
        #expect(lean.entries == YayAnswer.parse(Array(body.utf8))?.entries)
    }

    @Test(arguments: [#"{"result":{},"status_code":404}"#, #"[{"domain_name":"a.com"}]"#, "<html>", #"{"status_code":200}"#])
    func otherShapesAreLeftToTheEnvelopeReader(body: String) {
        #expect(YayActiveList.decode(Array(body.utf8)) == nil)
    }

    @Test func aListInsideAnErrorEnvelopeIsNotAList() async {
        // A 200 whose envelope says 401: the envelope decides, as for every Yay answer.
        let body = #"{"result":[],"status_code":401,"status_message":"Unauthorized"}"#
        guard case .halt = await yay(ScriptedTransport(status: 200, body: body)).refresh([order("example.com", uuidA)], now: fixedNow) else {
            Issue.record("expected halt"); return
        }
    }
}

@Suite("Yay follow-up: cancel")
struct YayCancelTests {
    private func cancel(_ status: Int, _ body: String, _ order: PlacedOrder = order("example.com", uuidA)) async -> CancelResult {
        await RedactingProvider(yay(ScriptedTransport(status: status, body: body))).cancel([order])
    }

    @Test func deleteIsSentOnceWithTheKeptUUID() async throws {
        let transport = ScriptedTransport(status: 204, body: "")
        #expect(await yay(transport).cancel([order("example.com", uuidA)]) == .settled([domain("example.com"): .cancelled(message: "back-order deleted (No Content)")]))
        let request = try #require(transport.requests.first)
        #expect(transport.requests.count == 1)
        #expect(request.method == .delete)
        #expect(request.url == "https://api.yay.com/dom/back-order/\(uuidA)")
        #expect(request.idempotent == false)
        #expect(request.body == nil)
        #expect(request.secrets == [password])
    }

    @Test func answersMapToVerdicts() async {
        let notFound = #"{"result":{},"status_code":404,"status_message":"Not Found"}"#
        #expect(await cancel(404, notFound) == .settled([domain("example.com"): .cancelled(message: "Yay.com holds no such back-order (HTTP 404: Not Found): already withdrawn")]))
        #expect(await cancel(200, notFound) == .settled([domain("example.com"): .cancelled(message: "Yay.com holds no such back-order (HTTP 404: Not Found): already withdrawn")]))
        // Not found once its drop date has come: Yay acted on it; never a false "cancelled".
        guard case .settled(let late) = await cancel(404, notFound, order("example.com", uuidA, drop: "2023-11-14")),
              case .refused(let why) = late[domain("example.com")] else { Issue.record("late 404"); return }
        #expect(why.contains("processed, not withdrawn"))
        #expect(await cancel(409, #"{"result":{},"status_code":409,"status_message":"Conflict"}"#)
            == .settled([domain("example.com"): .refused(message: "Yay.com will not delete it (HTTP 409: Conflict)")]))
        guard case .halt = await cancel(401, "") else { Issue.record("401"); return }
        guard case .maybeProcessed = await cancel(500, "") else { Issue.record("500"); return }
        guard case .refused(_, 3) = await RedactingProvider(yay(ScriptedTransport(status: 503, body: "", headers: ["retry-after": "3"]))).cancel([order("example.com", uuidA)]) else {
            Issue.record("503"); return
        }
        let lost = ScriptedTransport { _ throws(TransportError) in throw TransportError(kind: .maybeProcessed, message: "reset", code: 56) }
        guard case .maybeProcessed = await yay(lost).cancel([order("example.com", uuidA)]) else { Issue.record("lost"); return }
        let never = ScriptedTransport { _ throws(TransportError) in throw TransportError(kind: .neverSent, message: "refused", code: 7) }
        guard case .refused = await yay(never).cancel([order("example.com", uuidA)]) else { Issue.record("never sent"); return }
    }

    @Test func withoutAUUIDTheListNamesTheOrderAndNothingIsGuessed() async throws {
        let transport = ScriptedTransport { request throws(TransportError) in
            request.method == .get
                ? HTTPResponse(status: 200, headers: [:], body: Array(seedList.utf8))
                : HTTPResponse(status: 204, headers: [:], body: [])
        }
        #expect(await yay(transport).cancel([order("found-by-name.com")]) == .settled([domain("found-by-name.com"): .cancelled(message: "back-order deleted (No Content)")]))
        #expect(transport.requests.map(\.method) == [.get, .delete])
        #expect(transport.requests.last?.url == "https://api.yay.com/dom/back-order/\(uuidB)")

        // Not listed: before a known drop there is nothing to withdraw; otherwise bo-batch cannot tell, so refused.
        let listOnly = ScriptedTransport(status: 200, body: seedList)
        guard case .settled(let early) = await yay(listOnly).cancel([order("absent.com", drop: "2023-11-20")]),
              case .cancelled = early[domain("absent.com")] else { Issue.record("early"); return }
        guard case .settled(let unknown) = await yay(listOnly).cancel([order("absent.com")]),
              case .refused = unknown[domain("absent.com")] else { Issue.record("no drop"); return }
        #expect(!listOnly.requests.contains { $0.method == .delete })

        // A list that fails: nothing was deleted, so it is safe to ask again.
        guard case .refused = await yay(ScriptedTransport(status: 502, body: "")).cancel([order("absent.com")]) else { Issue.record("502"); return }
    }

    @Test(arguments: ["../../dom", "abc/def", "31347d42?x=1", "zzz"])
    func aMalformedUUIDIsNeverSent(bad: String) async {
        let transport = ScriptedTransport(status: 204, body: "")
        guard case .settled(let verdicts) = await yay(transport).cancel([order("example.com", bad)]),
              case .refused = verdicts[domain("example.com")] else { Issue.record("expected refused"); return }
        #expect(transport.requests.isEmpty)
    }
}

@Suite("Yay follow-up against the sandbox")
struct YayFollowUpSandboxTests {
    /// The provider as `submit --sandbox` builds it.
    static func provider(_ server: SandboxServer) throws -> any Provider {
        try #require(try ProviderCatalog.make(.yay, env: SandboxCredentials.environment(for: server), fastPacing: true)).provider
    }

    static func place(_ names: [String], with provider: any Provider, at server: SandboxServer) async throws -> [PlacedOrder] {
        var orders: [PlacedOrder] = []
        for name in names {
            let result = await provider.submit([BackorderItem(domain: domain(name))])
            guard case .settled(let verdicts) = result, case .accepted(let reference, _) = verdicts[domain(name)] else {
                throw ConfigurationError("\(name) was not placed: \(result)")
            }
            orders.append(PlacedOrder(domain: domain(name), reference: reference, placedAt: Date()))
        }
        return orders
    }

    static func expected(_ phase: BackorderDestiny.Phase) -> Fate {
        phase.stage == .waiting ? .waiting : .gone
    }

    @Test func refreshAgreesWithTheSandboxsTruthBeforeAndAfterTheDrop() async throws {
        let server = try await SandboxServer.start()
        defer { Task { await server.shutdown() } }
        let yay = try Self.provider(server)
        let names = ["win-a.com", "lose-b.com", "auction-c.com", "redeem-d.com"] + (0..<16).map { "mixed-\($0).com" }
        var orders = try await Self.place(names, with: yay, at: server)
        // One without its uuid: found by domain.
        orders[0].reference = nil

        let offsets: [TimeInterval] = [0, 2 * 86_400, 6 * 86_400, 8 * 86_400]
        for offset in offsets {
            server.clock.advance(to: offset)
            let result = await yay.refresh(orders, now: server.clock.now())
            guard case .fates(let fates) = result else { Issue.record("\(result)"); return }
            let truth = server.truth(provider: "yay")
            #expect(fates.count == names.count)
            for order in orders {
                let phase = try #require(truth[order.domain.ascii])
                #expect(fates[order.domain]?.fate == Self.expected(phase), "\(order.domain) at +\(offset): \(phase.stage)")
            }
            // The order kept without its uuid is found by domain, and its uuid reported for the ledger.
            if offset == 0 { #expect(fates[domain("win-a.com")]?.reference != nil) }
        }
        #expect(server.truth(provider: "yay").values.allSatisfy { $0.stage != .waiting })
    }

    @Test func cancelBeforeTheDropOnceThenNotFoundThenRefusedAfter() async throws {
        let server = try await SandboxServer.start()
        defer { Task { await server.shutdown() } }
        let yay = try Self.provider(server)
        let orders = try await Self.place(["cancel-me.com", "keep-me.com"], with: yay, at: server)

        let first = await yay.cancel([orders[0]])
        guard case .settled(let verdicts) = first, case .cancelled = verdicts[orders[0].domain] else { Issue.record("\(first)"); return }
        #expect(server.stats().cancelCount("yay", "cancel-me.com") == 1)
        let again = await yay.cancel([orders[0]])
        guard case .settled(let second) = again, case .cancelled = second[orders[0].domain] else { Issue.record("\(again)"); return }
        #expect(server.stats().cancelCount("yay", "cancel-me.com") == 1)
        #expect(server.truth(provider: "yay")["cancel-me.com"] == nil)

        server.clock.advance(to: 6 * 86_400)
        let late = await yay.cancel([orders[1]])
        guard case .settled(let refused) = late, case .refused(let why) = refused[orders[1].domain] else { Issue.record("\(late)"); return }
        #expect(why.contains("409"))
        #expect(server.stats().cancelCount("yay", "keep-me.com") == 0)
        #expect(server.truth(provider: "yay")["keep-me.com"] != nil)
    }

    @Test func aCancelWhoseAnswerIsLostIsMaybeAndTheLookupProvesItAbsent() async throws {
        let server = try await SandboxServer.start()
        defer { Task { await server.shutdown() } }
        let yay = try Self.provider(server)
        let orders = try await Self.place(["lost-answer.com"], with: yay, at: server)
        try server.setFaults(FaultPlan(providers: ["yay": ProviderFaults(dropAfterProcessing: 1)]))
        let result = await yay.cancel(orders)
        guard case .maybeProcessed = result else { Issue.record("\(result)"); return }
        #expect(server.stats().cancelCount("yay", "lost-answer.com") == 1)
        // Lookups are not faulted (no applyToLookups): the settling lookup finds it gone.
        #expect(await yay.lookup([BackorderItem(domain: orders[0].domain)]) == .found([:]))
        #expect(server.stats().requestCount("yay", "DELETE /dom/back-order/{uuid}") == 1)
    }

    @Test func aSnapshotRestoredIntoANewSandboxKeepsOrdersAndFates() async throws {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("bo-batch-yay-world-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await SandboxSession.start(stateDirectory: directory)
        let orders = try await Self.place(["win-kept.com", "lose-kept.com", "mixed-kept.com"], with: try Self.provider(first), at: first)
        first.clock.advance(to: 2 * 86_400)
        let before = first.truth(provider: "yay")
        await first.shutdown()

        let second = try await SandboxSession.start(stateDirectory: directory)
        defer { Task { await second.shutdown() } }
        #expect(second.clock.offset == 2 * 86_400)
        #expect(second.truth(provider: "yay") == before)
        let yay = try Self.provider(second)
        second.clock.advance(to: 6 * 86_400)
        guard case .fates(let fates) = await yay.refresh(orders, now: second.clock.now()) else { Issue.record("refresh"); return }
        #expect(orders.allSatisfy { fates[$0.domain]?.fate == .gone })
        #expect(second.truth(provider: "yay")["win-kept.com"]?.stage == .won)
        #expect(second.truth(provider: "yay")["lose-kept.com"]?.stage == .lost)
    }
}
