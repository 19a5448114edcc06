import BoBatchSandbox
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Sandbox: Dynadot fake")
struct SandboxDynadotTests {
    @Test func createThenListShowsTheDomains() async throws {
        try await withSandbox { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            let reply = try await client.get(dynadot.add(["alpha-drop.com", "beta-drop.net"]))
            #expect(reply.status == 200)
            #expect(SandboxXMLProbe.value("SuccessCode", in: reply.text) == "0")
            #expect(SandboxXMLProbe.value("Status", in: reply.text) == "success")
            #expect(reply.text.hasPrefix("<AddBackorderRequestResponse><AddBackorderRequestHeader>"))

            let list = try await client.get(dynadot.command("backorder_request_list"))
            #expect(SandboxXMLProbe.value("SuccessCode", in: list.text) == "0")
            #expect(SandboxXMLProbe.values("DomainName", in: list.text) == ["alpha-drop.com", "beta-drop.net"])
            #expect(SandboxXMLProbe.values("BackorderRequestStatus", in: list.text) == ["Active", "Active"])
            let cutoffs = SandboxXMLProbe.values("CutoffTime", in: list.text).compactMap { Int64($0) }
            #expect(cutoffs.count == 2)
            #expect(cutoffs.allSatisfy { $0 > Int64(Date().timeIntervalSince1970 * 1000) })

            let stats = server.stats()
            #expect(stats.createCount("dynadot", "alpha-drop.com") == 1)
            #expect(stats.createCount("dynadot", "beta-drop.net") == 1)
            #expect(stats.requestCount("dynadot", "add_backorder_request") == 1)
            #expect(stats.requestCount("dynadot", "backorder_request_list") == 1)
        }
    }

    @Test func duplicateGetsTheAlreadyOnListError() async throws {
        try await withSandbox { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            _ = try await client.get(dynadot.add(["again-drop.com"]))
            let reply = try await client.get(dynadot.add(["again-drop.com"]))
            #expect(reply.status == 200)
            #expect(SandboxXMLProbe.value("SuccessCode", in: reply.text) == "-1")
            #expect(SandboxXMLProbe.value("Status", in: reply.text) == "error")
            #expect(SandboxXMLProbe.value("Error", in: reply.text) == "again-drop.com is already on your backorder request list")
            #expect(server.stats().createCount("dynadot", "again-drop.com") == 1)
        }
    }

    @Test(arguments: [
        ("taken-example.com", "could not find backorder fot this domain"),
        ("livewire.net", "could not find backorder fot this domain"),
        ("dropping.zz", "could not find backorder fot this domain"),
        ("-bad-.com", "invalid domain name"),
        ("no_underscores.com", "invalid domain name"),
    ])
    func notPendingDeleteOrInvalidIsRejected(domain: String, message: String) async throws {
        try await withSandbox { server, client in
            let reply = try await client.get(SandboxDynadotURL(server: server).add([domain]))
            #expect(SandboxXMLProbe.value("SuccessCode", in: reply.text) == "-1")
            #expect(SandboxXMLProbe.value("Error", in: reply.text) == message)
            #expect(server.stats().totalCreates("dynadot") == 0)
        }
    }

    @Test func wrongOrMissingKeyIsInvalidKey() async throws {
        try await withSandbox { server, client in
            var dynadot = SandboxDynadotURL(server: server)
            dynadot.key = "not-the-key"
            for url in [dynadot.add(["a-drop.com"]), server.endpoint(for: "dynadot") + "?command=is_processing"] {
                let reply = try await client.get(url)
                #expect(reply.status == 200)
                #expect(reply.text == "<Response><ResponseHeader><ResponseCode>-1</ResponseCode><Error>invalid key</Error></ResponseHeader></Response>")
            }
            #expect(server.stats().totalCreates("dynadot") == 0)
        }
    }

    @Test func atMostOneHundredDomainsPerRequest() async throws {
        try await withSandbox { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            let hundred = (1...100).map { "bulk\($0)-drop.com" }
            let ok = try await client.get(dynadot.add(hundred))
            #expect(SandboxXMLProbe.value("SuccessCode", in: ok.text) == "0")
            #expect(server.stats().totalCreates("dynadot") == 100)

            let tooMany = (1...101).map { "more\($0)-drop.com" }
            let reply = try await client.get(dynadot.add(tooMany))
            #expect(SandboxXMLProbe.value("SuccessCode", in: reply.text) == "-1")
            #expect(SandboxXMLProbe.value("Error", in: reply.text) == "too many domains")
            #expect(server.stats().totalCreates("dynadot") == 100)
        }
    }

    @Test func failingBatchKeepsTheNamesBeforeTheFirstBadOne() async throws {
        try await withSandbox { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            _ = try await client.get(dynadot.add(["p3-drop.com"]))
            let reply = try await client.get(dynadot.add(["p1-drop.com", "p2-drop.com", "p3-drop.com", "p4-drop.com", "taken-p5.com"]))
            #expect(SandboxXMLProbe.value("SuccessCode", in: reply.text) == "-1")
            #expect(SandboxXMLProbe.value("Error", in: reply.text) == "p3-drop.com is already on your backorder request list")

            let list = try await client.get(dynadot.command("backorder_request_list"))
            #expect(Set(SandboxXMLProbe.values("DomainName", in: list.text)) == ["p1-drop.com", "p2-drop.com", "p3-drop.com"])
            let stats = server.stats()
            #expect(stats.createCount("dynadot", "p4-drop.com") == 0)
            #expect(stats.createCount("dynadot", "p3-drop.com") == 1)
        }
    }

    @Test func deleteRemovesFromTheList() async throws {
        try await withSandbox { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            _ = try await client.get(dynadot.add(["gone-drop.com", "kept-drop.com"]))
            let deleted = try await client.get(dynadot.command("delete_backorder_request", [("domain", "gone-drop.com")]))
            #expect(deleted.text.hasPrefix("<DeleteBackorderRequestResponse>"))
            #expect(SandboxXMLProbe.value("SuccessCode", in: deleted.text) == "0")
            let again = try await client.get(dynadot.command("delete_backorder_request", [("domain", "gone-drop.com")]))
            #expect(SandboxXMLProbe.value("SuccessCode", in: again.text) == "-1")
            let list = try await client.get(dynadot.command("backorder_request_list"))
            #expect(SandboxXMLProbe.values("DomainName", in: list.text) == ["kept-drop.com"])
        }
    }

    @Test func secondRequestWhileOneIsProcessingIsRefused() async throws {
        // A short client timeout: if the fake wrongly let the second create through, it would wait at the gate.
        try await withSandbox(timeout: 10) { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            let idle = try await client.get(dynadot.command("is_processing"))
            #expect(idle.text == "<Response><ResponseHeader><ResponseCode>0</ResponseCode><ResponseMsg>no</ResponseMsg></ResponseHeader></Response>")

            server.holdCreates(for: "dynadot")
            let slow = Task { try await client.get(dynadot.add(["slow-drop.com"])) }
            await server.waitForHeldCreates(provider: "dynadot", count: 1)

            let second = try await client.get(dynadot.add(["second-drop.com"]))
            #expect(SandboxXMLProbe.value("SuccessCode", in: second.text) == "-1")
            #expect(SandboxXMLProbe.value("Error", in: second.text) == "another request is being processed")
            let busy = try await client.get(dynadot.command("is_processing"))
            #expect(SandboxXMLProbe.value("ResponseMsg", in: busy.text) == "yes")
            let list = try await client.get(dynadot.command("backorder_request_list"))
            #expect(SandboxXMLProbe.value("Error", in: list.text) == "another request is being processed")

            server.releaseCreates(for: "dynadot")
            let first = try await slow.value
            #expect(SandboxXMLProbe.value("SuccessCode", in: first.text) == "0")
            let after = try await client.get(dynadot.command("is_processing"))
            #expect(SandboxXMLProbe.value("ResponseMsg", in: after.text) == "no")

            let stats = server.stats()
            #expect(stats.busyRejections["dynadot"] == 2)
            #expect(stats.createCount("dynadot", "slow-drop.com") == 1)
            #expect(stats.createCount("dynadot", "second-drop.com") == 0)
        }
    }

    @Test func injectedLatencyKeepsTheAccountProcessing() async throws {
        // Long enough that a loaded 2-core CI machine still polls and sends the second request inside the window.
        let plan = FaultPlan(providers: ["dynadot": ProviderFaults(latency: .fixed(ms: 4000))])
        try await withSandbox(faults: plan) { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            let started = Date()
            let slow = Task { try await client.get(dynadot.add(["latent-drop.com"])) }
            // Synchronise on the server's own state: poll until the account reports processing.
            var sawBusy = false
            for _ in 0..<10_000 where !sawBusy {
                let poll = try await client.get(dynadot.command("is_processing"))
                sawBusy = SandboxXMLProbe.value("ResponseMsg", in: poll.text) == "yes"
            }
            #expect(sawBusy)
            let second = try await client.get(dynadot.add(["other-drop.com"]))
            #expect(SandboxXMLProbe.value("Error", in: second.text) == "another request is being processed")
            let first = try await slow.value
            #expect(SandboxXMLProbe.value("SuccessCode", in: first.text) == "0")
            #expect(Date().timeIntervalSince(started) >= 3.9)
        }
    }

    /// The latency is the request's whole time in the server, counted from its arrival, and the stats add up
    /// each request's time there: a benchmark divides that by the span to tell how busy a client kept the provider.
    @Test func latencyCountsFromArrivalAndBusySecondsAddUp() async throws {
        let plan = FaultPlan(providers: ["dynadot": ProviderFaults(latency: .fixed(ms: 150))])
        try await withSandbox(faults: plan) { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            let clock = ContinuousClock()
            var elapsed: Duration = .zero
            for i in 0..<2 {
                let started = clock.now
                let answer = try await client.get(dynadot.add(["busy\(i)-drop.com", "busy\(i)b-drop.com"]))
                let took = clock.now - started
                elapsed += took
                // The connection holds the answer until its time (ConnectionAnswerClock): never earlier.
                #expect(took >= .milliseconds(150), "answered after \(took)")
                #expect(SandboxXMLProbe.value("SuccessCode", in: answer.text) == "0")
            }
            let stats = server.stats()
            let busy = stats.busySeconds["dynadot"] ?? 0
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            // Never answered early, and the server's time is within what the client waited for its answers.
            #expect(busy >= 0.3, "busy \(busy)")
            #expect(busy <= seconds, "busy \(busy), client waited \(seconds)")
            #expect(stats.totalCreates("dynadot") == 4)
        }
    }

    /// A client that closes after each request (Python's urllib sends `Connection: close`) gets its answer too:
    /// the close waits for the held answer.
    @Test func aHeldAnswerLeavesBeforeTheConnectionCloses() async throws {
        let plan = FaultPlan(providers: ["dynadot": ProviderFaults(latency: .fixed(ms: 100))])
        try await withSandbox(faults: plan) { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            let clock = ContinuousClock()
            for i in 0..<2 {
                let started = clock.now
                let answer = try await client.get(dynadot.add(["close\(i)-drop.com"]), headers: ["Connection": "close"])
                let took = clock.now - started
                #expect(SandboxXMLProbe.value("SuccessCode", in: answer.text) == "0", "\(answer.text)")
                #expect(took >= .milliseconds(100), "answered after \(took)")
            }
            #expect(server.stats().totalCreates("dynadot") == 2)
        }
    }

    @Test func busyWindowAfterAFailure() async throws {
        let plan = FaultPlan(providers: ["dynadot": ProviderFaults(busyWindow: 2)])
        try await withSandbox(faults: plan) { server, client in
            let dynadot = SandboxDynadotURL(server: server)
            _ = try await client.get(dynadot.add(["taken-x.com"]))
            var answers: [String?] = []
            for _ in 0..<3 {
                answers.append(SandboxXMLProbe.value("ResponseMsg", in: try await client.get(dynadot.command("is_processing")).text))
            }
            #expect(answers == ["yes", "yes", "no"])
            let ok = try await client.get(dynadot.add(["fine-drop.com"]))
            #expect(SandboxXMLProbe.value("SuccessCode", in: ok.text) == "0")
        }
    }

    @Test func otherAccountsHaveTheirOwnLists() async throws {
        try await withSandbox { server, client in
            var first = SandboxDynadotURL(server: server)
            var second = SandboxDynadotURL(server: server)
            second.key = SandboxCredentials.dynadotKey + "-2"
            first.key = SandboxCredentials.dynadotKey
            _ = try await client.get(first.add(["mine-drop.com"]))
            let reply = try await client.get(second.add(["mine-drop.com"]))
            #expect(SandboxXMLProbe.value("SuccessCode", in: reply.text) == "0")
            let list = try await client.get(second.command("backorder_request_list"))
            #expect(SandboxXMLProbe.values("DomainName", in: list.text) == ["mine-drop.com"])
            #expect(server.stats().createCount("dynadot", "mine-drop.com") == 2)
        }
    }
}
