import BoBatchSandbox
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Sandbox: Yay fake")
struct SandboxYayTests {
    @Test func createListGetAndDelete() async throws {
        try await withSandbox { server, client in
            let base = server.endpoint(for: "yay") + "/dom/back-order"
            let created = try await client.postJSON(base, #"{"domain_name":"yay-drop.com"}"#, headers: sandboxYayHeaders)
            #expect(created.status == 201)
            let json = try created.json()
            #expect(json["status_code"] as? Int == 201)
            #expect(json["status_message"] as? String == "Created")
            let result = try #require(json["result"] as? [String: Any])
            #expect(result["domain_name"] as? String == "yay-drop.com")
            let uuid = try #require(result["uuid"] as? String)
            #expect(UUID(uuidString: uuid) != nil)

            let list = try await client.get(base, headers: sandboxYayHeaders).json()
            let items = try #require(list["result"] as? [[String: Any]])
            #expect(items.map { $0["domain_name"] as? String } == ["yay-drop.com"])
            #expect(items.first?["uuid"] as? String == uuid)
            #expect(items.first?["updated_on"] is String)

            let one = try await client.get(base + "/" + uuid, headers: sandboxYayHeaders)
            #expect(one.status == 200)
            #expect((try one.json()["result"] as? [String: Any])?["uuid"] as? String == uuid)

            let deleted = try await client.delete(base + "/" + uuid, headers: sandboxYayHeaders)
            #expect(deleted.status == 204)
            let gone = try await client.get(base + "/" + uuid, headers: sandboxYayHeaders)
            #expect(gone.status == 404)
            #expect(gone.text == #"{"result":{},"status_code":404,"status_message":"Not Found"}"#)
            #expect(try await client.delete(base + "/" + uuid, headers: sandboxYayHeaders).status == 404)
        }
    }

    @Test func everyPostIsChargedButOnlyOneCreates() async throws {
        try await withSandbox { server, client in
            let base = server.endpoint(for: "yay") + "/dom/back-order"
            let first = try await client.postJSON(base, #"{"domain_name":"paid-drop.com"}"#, headers: sandboxYayHeaders)
            let second = try await client.postJSON(base, #"{"domain_name":"paid-drop.com"}"#, headers: sandboxYayHeaders)
            let taken = try await client.postJSON(base, #"{"domain_name":"taken-paid.com"}"#, headers: sandboxYayHeaders)
            let junk = try await client.postJSON(base, #"{"name":"x"}"#, headers: sandboxYayHeaders)
            #expect(first.status == 201)
            #expect(second.status == 409)
            #expect(try second.json()["status_message"] as? String == "Conflict")
            #expect(taken.status == 400)
            #expect(junk.status == 400)
            let stats = server.stats()
            #expect(stats.charges == 4)
            #expect(stats.createCount("yay", "paid-drop.com") == 1)
            #expect(stats.requestCount("yay", "POST /dom/back-order") == 4)
        }
    }

    @Test func missingOrWrongCredentialsAre401() async throws {
        try await withSandbox { server, client in
            let base = server.endpoint(for: "yay") + "/dom/back-order"
            var wrong = sandboxYayHeaders
            wrong["X-Auth-Password"] = "guess"
            for headers in [[:], wrong] {
                let reply = try await client.postJSON(base, #"{"domain_name":"auth-drop.com"}"#, headers: headers)
                #expect(reply.status == 401)
                #expect(reply.text == #"{"result":{},"status_code":401,"status_message":"Unauthorized"}"#)
            }
            #expect(server.stats().charges == 0)
            #expect(server.stats().totalCreates("yay") == 0)
        }
    }
}
