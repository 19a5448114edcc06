import BoBatchSandbox
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Sandbox: server, stats and plan")
struct SandboxServerTests {
    @Test func endpointsAndEnvironmentPointAtTheServer() async throws {
        try await withSandbox { server, _ in
            #expect(server.port > 0)
            #expect(server.baseURL == "http://127.0.0.1:\(server.port)")
            #expect(server.endpoint(for: "dynadot") == server.baseURL + "/dynadot/api3.xml")
            #expect(server.endpoint(for: "gname") == server.baseURL + "/gname")
            #expect(server.endpoint(for: "yay") == server.baseURL + "/yay")
            #expect(server.endpoint(for: "oneapi") == server.baseURL + "/1api/api/call.cgi")
            #expect(server.endpoint(for: "dnspod") == server.baseURL + "/dnspod")
            let environment = SandboxCredentials.environment(for: server)
            #expect(environment["DYNADOT_ENDPOINT"] == server.endpoint(for: "dynadot"))
            #expect(environment["GNAME_CHANNEL"] == "1")
            #expect(environment["ONEAPI_ENTITY"] == "1234")
            #expect(environment["DNSPOD_LOGIN_TOKEN"] == "10001,sandbox-dnspod-token")
            #expect(environment.count == 16)
        }
    }

    @Test func aBusyPortIsAnErrorNotAHang() async throws {
        try await withSandbox { server, _ in
            await #expect(throws: SandboxError.self) {
                let second = try await SandboxServer.start(SandboxOptions(port: server.port))
                await second.shutdown()
            }
        }
    }

    @Test func statsEndpointServesTheCountsAndResetForgetsThem() async throws {
        try await withSandbox { server, client in
            _ = try await client.get(SandboxDynadotURL(server: server).add(["counted-drop.com"]))
            _ = try await client.postJSON(server.endpoint(for: "yay") + "/dom/back-order", #"{"domain_name":"counted-drop.com"}"#, headers: sandboxYayHeaders)
            let reply = try await client.get(server.baseURL + "/_sandbox/stats")
            #expect(reply.status == 200)
            let stats = try JSONDecoder().decode(SandboxStats.self, from: reply.body)
            #expect(stats.createCount("dynadot", "counted-drop.com") == 1)
            #expect(stats.createCount("yay", "counted-drop.com") == 1)
            #expect(stats.charges == 1)
            #expect(stats.requestCount("dynadot", "add_backorder_request") == 1)
            #expect(stats == server.stats())

            let reset = try await client.send("POST", server.baseURL + "/_sandbox/reset", headers: [:], body: nil)
            #expect(reset.status == 200)
            #expect(server.stats().creates.isEmpty)
            #expect(server.stats().charges == 0)
            let list = try await client.get(SandboxDynadotURL(server: server).command("backorder_request_list"))
            #expect(SandboxXMLProbe.values("DomainName", in: list.text).isEmpty)
            let again = try await client.get(SandboxDynadotURL(server: server).add(["counted-drop.com"]))
            #expect(SandboxXMLProbe.value("SuccessCode", in: again.text) == "0")
        }
    }

    @Test func faultPlanCanBeReplacedOverHTTP() async throws {
        try await withSandbox { server, client in
            let plan = #"{"providers":{"yay":{"refuse":1}}}"#
            let put = try await client.send("PUT", server.baseURL + "/_sandbox/faults", headers: ["Content-Type": "application/json"], body: Data(plan.utf8))
            #expect(put.status == 200)
            #expect(server.faults.faults(for: "yay").refuse == 1)
            let typo = try await client.send("PUT", server.baseURL + "/_sandbox/faults", headers: [:], body: Data(#"{"providers":{"yay":{"refuze":1}}}"#.utf8))
            #expect(typo.status == 400)
            #expect(typo.text.contains("refuze"))
        }
    }

    @Test func faultPlanJSONRoundTripsAndRejectsMistakes() throws {
        let json = """
        {
          "description": "flaky",
          "providers": {
            "dynadot": { "latency": { "minMs": 50, "maxMs": 400 }, "dropAfterProcessing": 0.1, "busyWindow": 3, "hugeList": 100000 },
            "yay": { "latency": { "ms": 200 }, "refuse": 0.2, "requestsPerMinute": 60 },
            "gname": { "accountFailure": "blocked" },
            "*": { "serverErrorAfterProcessing": 0.05, "applyToLookups": true }
          }
        }
        """
        let plan = try FaultPlan(json: Data(json.utf8))
        #expect(plan.faults(for: "dynadot").latency == Latency(minMs: 50, maxMs: 400))
        #expect(plan.faults(for: "dynadot").busyWindow == 3)
        #expect(plan.faults(for: "yay").latency == .fixed(ms: 200))
        #expect(plan.faults(for: "gname").accountFailure == .blocked)
        #expect(plan.faults(for: "dnspod").serverErrorAfterProcessing == 0.05)
        #expect(try FaultPlan(json: plan.jsonData()) == plan)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-plan-\(UUID().uuidString).json").path
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try FaultPlan.load(path: path) == plan)

        for bad in [
            #"{"providers":{"dynadot":{"refuse":1.5}}}"#,
            #"{"providers":{"dynadot":{"refuse":0.6,"dropAfterProcessing":0.6}}}"#,
            #"{"providers":{"godaddy":{}}}"#,
            #"{"provider":{}}"#,
            #"{"providers":{"yay":{"latency":{"fixed":3}}}}"#,
        ] {
            #expect(throws: FaultPlanError.self) { try FaultPlan(json: Data(bad.utf8)) }
        }
    }

    @Test func pendingDeleteRule() {
        #expect(PendingDeleteRule.verdict(for: "Dropping.COM.") == .pendingDelete)
        #expect(PendingDeleteRule.verdict(for: "xn--bcher-kva.de") == .pendingDelete)
        #expect(PendingDeleteRule.verdict(for: "example.co.uk") == .pendingDelete)
        #expect(PendingDeleteRule.verdict(for: "free.tk") == .pendingDelete)
        #expect(PendingDeleteRule.verdict(for: "taken.com") == .registered)
        #expect(PendingDeleteRule.verdict(for: "livestream.net") == .registered)
        #expect(PendingDeleteRule.verdict(for: "alive.com") == .pendingDelete)
        #expect(PendingDeleteRule.verdict(for: "example.zz") == .unsupportedTLD)
        #expect(PendingDeleteRule.verdict(for: "com") == .invalidName)
        #expect(PendingDeleteRule.verdict(for: "a..com") == .invalidName)
        #expect(PendingDeleteRule.verdict(for: "bücher.de") == .invalidName)
        #expect(PendingDeleteRule.verdict(for: String(repeating: "a", count: 64) + ".com") == .invalidName)
    }
}
