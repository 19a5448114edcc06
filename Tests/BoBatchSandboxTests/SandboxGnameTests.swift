import BoBatchSandbox
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Sandbox: Gname fake")
struct SandboxGnameTests {
    @Test func signatureMatchesTheSeedTestVector() {
        let token = GnameSignature.token(
            fields: [("ym", "gname.com"), ("url", "https://www.gname.com"), ("gntime", "1234567890"), ("appid", "APPID")],
            appKey: "APPKEY"
        )
        #expect(token == "B48D34C9A15A3F33ED61396E5BD8F1F8")
        #expect(GnameSignature.phpURLEncode("a b*c~d-e_f.g/é") == "a+b%2Ac%7Ed-e_f.g%2F%C3%A9")
    }

    @Test func addThenInfoReturnsTheBackorder() async throws {
        try await withSandbox { server, client in
            let add = try await client.postForm(server.endpoint(for: "gname") + "/api/backorder/add",
                                                sandboxGnameFields([("ym", "Gname-Drop.com"), ("td", "1")]))
            #expect(add.status == 200)
            let json = try add.json()
            #expect(json["code"] as? Int == 1)
            #expect(json["msg"] as? String == "backorder success")
            #expect(json["data"] as? String == "3.00")

            let info = try await client.postForm(server.endpoint(for: "gname") + "/api/backorder/info",
                                                 sandboxGnameFields([("ym", "gname-drop.com")]))
            let infoJSON = try info.json()
            #expect(infoJSON["code"] as? Int == 1)
            let data = try #require(infoJSON["data"] as? [String: Any])
            #expect(data["ym"] as? String == "gname-drop.com")
            #expect(data["zt"] as? String == "0")
            #expect(data["ztstr"] as? String == "in backorder")
            #expect(data["td"] as? String == "1")
            for key in ["id", "ym", "zt", "ztstr", "sclx", "sclxstr", "td", "qian", "dqian", "sj", "scsj"] {
                #expect(data[key] is String, "\(key) must be a string")
            }
            #expect(info.text.contains("\\/") == false || info.text.contains("\"sj\""))
            #expect(server.stats().createCount("gname", "gname-drop.com") == 1)
        }
    }

    @Test func duplicateNotPendingAndUnknownAreDistinguished() async throws {
        try await withSandbox { server, client in
            let url = server.endpoint(for: "gname") + "/api/backorder/add"
            _ = try await client.postForm(url, sandboxGnameFields([("ym", "twice-drop.com"), ("td", "1")]))
            let again = try await client.postForm(url, sandboxGnameFields([("ym", "twice-drop.com"), ("td", "1")])).json()
            #expect(again["code"] as? Int == -2)
            #expect(again["msg"] as? String == "domain already backordered")

            let taken = try await client.postForm(url, sandboxGnameFields([("ym", "taken-name.com"), ("td", "1")])).json()
            #expect(taken["code"] as? Int == -1)
            #expect(taken["msg"] as? String == "domain is not in the deletion list")

            let missing = try await client.postForm(server.endpoint(for: "gname") + "/api/backorder/info",
                                                    sandboxGnameFields([("ym", "never-drop.com")])).json()
            #expect(missing["code"] as? Int == -1)
            #expect(missing["msg"] as? String == "no backorder record")
            #expect(server.stats().createCount("gname", "twice-drop.com") == 1)
        }
    }

    @Test func wrongSignatureAndSkewedClockAreRefused() async throws {
        try await withSandbox { server, client in
            let url = server.endpoint(for: "gname") + "/api/backorder/add"
            var tampered = sandboxGnameFields([("ym", "signed-drop.com"), ("td", "1")])
            tampered[2] = ("ym", "other-drop.com")
            let bad = try await client.postForm(url, tampered).json()
            #expect(bad["code"] as? Int == -1)
            #expect(bad["msg"] as? String == "signature error")

            let wrongKey = try await client.postForm(url, sandboxGnameFields([("ym", "signed-drop.com"), ("td", "1")], appKey: "nope")).json()
            #expect(wrongKey["msg"] as? String == "signature error")

            let skewed = try await client.postForm(url, sandboxGnameFields([("ym", "signed-drop.com"), ("td", "1")],
                                                                    time: Date().addingTimeInterval(-301))).json()
            #expect(skewed["code"] as? Int == -1)
            #expect((skewed["msg"] as? String)?.contains("time") == true)

            let unknownApp = try await client.postForm(url, sandboxGnameFields([("ym", "signed-drop.com")], appID: "stranger")).json()
            #expect(unknownApp["code"] as? Int == -1)
            #expect(server.stats().totalCreates("gname") == 0)
        }
    }

    @Test func bulkReportsEachName() async throws {
        try await withSandbox { server, client in
            let url = server.endpoint(for: "gname") + "/api/backorder/bulk"
            _ = try await client.postForm(server.endpoint(for: "gname") + "/api/backorder/add",
                                          sandboxGnameFields([("ym", "had-drop.com"), ("td", "1")]))
            let reply = try await client.postForm(url, sandboxGnameFields([("ym", "new1-drop.com\nhad-drop.com\ntaken-x.com\nnew2-drop.net"), ("td", "1")]))
            let json = try reply.json()
            #expect(json["code"] as? Int == 1)
            let data = try #require(json["data"] as? [String: Any])
            #expect(data["ok"] as? [String] == ["new1-drop.com", "new2-drop.net"])
            let errors = try #require(data["err"] as? [[String: Any]])
            #expect(errors.map { $0["ym"] as? String } == ["had-drop.com", "taken-x.com"])
            #expect(errors.map { $0["code"] as? Int } == [-2, -1])

            let tooMany = (1...101).map { "n\($0)-drop.com" }.joined(separator: "\n")
            let refused = try await client.postForm(url, sandboxGnameFields([("ym", tooMany), ("td", "1")])).json()
            #expect(refused["code"] as? Int == -1)
            #expect(server.stats().totalCreates("gname") == 3)
        }
    }
}
