import BoBatchSandbox
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Sandbox: 1API fake")
struct SandboxOneAPITests {
    @Test func addThenQueryStatusAndDelete() async throws {
        try await withSandbox { server, client in
            let url = server.endpoint(for: "oneapi")
            let add = SandboxISPAPIProbe(try await client.postForm(url, sandboxOneAPIFields([
                ("command", "AddDomainApplication"), ("class", "BACKORDER"), ("domain", "one-drop.com"),
            ])).text)
            #expect(add.sawHeader && add.sawEOF)
            #expect(add.code == 200)
            #expect(add.property("status") == "REQUESTED")
            let id = try #require(add.property("application"))

            _ = try await client.postForm(url, sandboxOneAPIFields([("COMMAND", "adddomainapplication"), ("CLASS", "backorder"), ("DOMAIN", "two-drop.net")]))
            let list = SandboxISPAPIProbe(try await client.postForm(url, sandboxOneAPIFields([
                ("command", "QueryDomainApplicationList"), ("class", "BACKORDER"),
            ])).text)
            #expect(list.code == 200)
            #expect(list.column("domain") == ["one-drop.com", "two-drop.net"])
            #expect(list.column("status") == ["REQUESTED", "REQUESTED"])
            #expect(list.column("application").first == id)
            #expect(list.property("total") == "2")

            let filtered = SandboxISPAPIProbe(try await client.postForm(url, sandboxOneAPIFields([
                ("command", "QueryDomainApplicationList"), ("class", "BACKORDER"), ("domain0", "two-drop.net"),
            ])).text)
            #expect(filtered.column("domain") == ["two-drop.net"])

            let status = SandboxISPAPIProbe(try await client.postForm(url, sandboxOneAPIFields([("command", "StatusDomainApplication"), ("application", id)])).text)
            #expect(status.code == 200)
            #expect(status.property("domain") == "one-drop.com")

            let deleted = SandboxISPAPIProbe(try await client.postForm(url, sandboxOneAPIFields([("command", "DeleteDomainApplication"), ("application", id)])).text)
            #expect(deleted.code == 200)
            let again = SandboxISPAPIProbe(try await client.postForm(url, sandboxOneAPIFields([("command", "StatusDomainApplication"), ("application", id)])).text)
            #expect(again.code == 545)
        }
    }

    @Test func duplicateNotPendingMissingAndBadLogin() async throws {
        try await withSandbox { server, client in
            let url = server.endpoint(for: "oneapi")
            func add(_ extra: [(String, String)]) async throws -> SandboxISPAPIProbe {
                SandboxISPAPIProbe(try await client.postForm(url, sandboxOneAPIFields([("command", "AddDomainApplication")] + extra)).text)
            }
            #expect(try await add([("class", "BACKORDER"), ("domain", "dup-drop.com")]).code == 200)
            let duplicate = try await add([("class", "BACKORDER"), ("domain", "dup-drop.com")])
            #expect(duplicate.code == 540)
            #expect(duplicate.description?.hasPrefix("Attribute value is not unique") == true)
            let taken = try await add([("class", "BACKORDER"), ("domain", "taken-one.com")])
            #expect(taken.code == 541)
            #expect(taken.description?.hasPrefix("Invalid attribute value") == true)
            #expect(try await add([("class", "BACKORDER")]).code == 504)

            let badLogin = SandboxISPAPIProbe(try await client.postForm(url, [
                ("s_entity", "1234"), ("s_login", SandboxCredentials.oneapiLogin), ("s_pw", "wrong"),
                ("command", "AddDomainApplication"), ("class", "BACKORDER"), ("domain", "login-drop.com"),
            ]).text)
            #expect(badLogin.code == 530)
            #expect(badLogin.description == "Authentication failed")

            // NEW=1 creates a duplicate on purpose, as the real system does: the stats must show it.
            #expect(try await add([("class", "BACKORDER"), ("domain", "dup-drop.com"), ("new", "1")]).code == 200)
            #expect(server.stats().createCount("oneapi", "dup-drop.com") == 2)
        }
    }

    @Test func layoutVariesButStaysISPAPI() async throws {
        try await withSandbox { server, client in
            var bodies: Set<String> = []
            for index in 0..<24 {
                let text = try await client.postForm(server.endpoint(for: "oneapi"), sandboxOneAPIFields([
                    ("command", "AddDomainApplication"), ("class", "BACKORDER"), ("domain", "layout\(index)-drop.com"),
                ])).text
                #expect(SandboxISPAPIProbe(text).code == 200, "\(text.debugDescription)")
                #expect(text.hasPrefix("[RESPONSE]"))
                bodies.insert(text.contains("\r\n") ? "crlf" : "lf")
                bodies.insert(text.contains("CODE") ? "upper" : "lower")
                bodies.insert(text.contains(" = ") ? "spaced" : "tight")
            }
            #expect(bodies == ["crlf", "lf", "upper", "lower", "spaced", "tight"])
        }
    }
}
