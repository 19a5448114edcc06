import BoBatchSandbox
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Sandbox: DNSPod fake")
struct SandboxDNSPodTests {
    private func status(_ reply: SandboxReply) throws -> (code: String?, message: String?) {
        let status = try reply.json()["status"] as? [String: Any]
        return (status?["code"] as? String, status?["message"] as? String)
    }

    private func send(_ client: SandboxHTTPClient, _ server: SandboxServer, domain: String, email: String = "admin@example.com",
                      token: String = SandboxCredentials.dnspodLoginToken, headers: [String: String] = sandboxDNSPodUserAgent) async throws -> SandboxReply {
        try await client.postForm(server.endpoint(for: "dnspod") + "/Domain.Acquiresend",
                                  [("login_token", token), ("format", "json"), ("domain", domain), ("email", email)],
                                  headers: headers)
    }

    @Test func sendIsCountedAndCanBeValidated() async throws {
        try await withSandbox { server, client in
            let reply = try await send(client, server, domain: "pod-drop.com")
            #expect(reply.status == 200)
            let (code, message) = try status(reply)
            #expect(code == "1")
            #expect(message == "Action completed successful")
            #expect(reply.text.contains(#""code":"1""#))

            let emails = try await client.postForm(server.endpoint(for: "dnspod") + "/Domain.Acquire",
                                                   [("login_token", SandboxCredentials.dnspodLoginToken), ("format", "json"), ("domain", "pod-drop.com")],
                                                   headers: sandboxDNSPodUserAgent).json()
            #expect((emails["emails"] as? [String])?.isEmpty == false)

            _ = try await send(client, server, domain: "pod-drop.com")
            #expect(server.stats().createCount("dnspod", "pod-drop.com") == 2)

            let mailed = try #require(server.dnspodVerificationCodes(for: "pod-drop.com").last)
            let validate = try await client.postForm(server.endpoint(for: "dnspod") + "/Domain.Acquirevalidate",
                                                     [("login_token", SandboxCredentials.dnspodLoginToken), ("format", "json"),
                                                      ("domain", "pod-drop.com"), ("code", mailed)], headers: sandboxDNSPodUserAgent)
            let validated = try status(validate).code
            #expect(validated == "1")
        }
    }

    @Test(arguments: [
        ("tokelau-drop.tk", "admin@example.com", "9"),
        ("taken-pod.com", "admin@example.com", "10"),
        ("bad_name.com", "admin@example.com", "6"),
        ("中文.com", "admin@example.com", "7"),
        ("pod-drop.com", "not-an-email", "16"),
        ("pod-drop.com", "", "16"),
    ])
    func domainAndEmailProblems(domain: String, email: String, expected: String) async throws {
        try await withSandbox { server, client in
            let reply = try await send(client, server, domain: domain, email: email)
            let code = try status(reply).code
            #expect(code == expected)
            #expect(server.stats().totalCreates("dnspod") == 0)
        }
    }

    @Test func badTokenAndMissingUserAgent() async throws {
        try await withSandbox { server, client in
            let badToken = try await send(client, server, domain: "pod-drop.com", token: "10001,wrong")
            let badTokenCode = try status(badToken).code
            #expect(badTokenCode == "-1")
            let noAgent = try await send(client, server, domain: "pod-drop.com", headers: ["User-Agent": "curl/8.0"])
            let noAgentCode = try status(noAgent).code
            #expect(noAgentCode == "-7")
            #expect(server.stats().totalCreates("dnspod") == 0)
        }
    }
}
