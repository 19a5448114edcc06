import BoBatchSandbox
import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("Sandbox time offsets")
struct SandboxTimeOffsetTests {
    @Test(arguments: [
        ("+2d", 172_800.0), ("+36h", 129_600), ("+90m", 5_400), ("+1d12h", 129_600), ("2d", 172_800), ("+45s", 45),
        ("+1d2h3m4s", 93_784), (" +6D ", 518_400), ("+0d", 0), ("+3650d", 315_360_000),
    ])
    func reads(text: String, seconds: Double) throws {
        #expect(try SandboxTimeOffset.parse(text).seconds == seconds)
    }

    @Test(arguments: [
        ("-2d", "only moves forward"), ("", "empty"), ("+", "empty"), ("+2", "has no unit"), ("+2w", "'w' is not a unit"),
        ("+d", "'d' is not where a number belongs"), ("+1h2d", "largest to the smallest"), ("+1d1d", "largest to the smallest"),
        ("+3651d", "3650 days"), ("+9999999999d", "too large"), ("+2d ago", "not where a number belongs"),
    ])
    func refusesWithAReason(text: String, reason: String) {
        do {
            _ = try SandboxTimeOffset.parse(text)
            Issue.record("'\(text)' was read")
        } catch {
            #expect(error.message.contains(reason), "\(error.message)")
            #expect(error.message.contains("'\(text)'"))
        }
    }

    @Test func describesItselfAsItIsWritten() throws {
        for text in ["+2d", "+1d12h", "+90s", "+1d2h3m4s", "+0s"] {
            let offset = try SandboxTimeOffset.parse(text)
            #expect(try SandboxTimeOffset.parse(offset.description) == offset)
        }
        #expect(SandboxTimeOffset(seconds: 5_400).description == "+1h30m")
    }
}

@Suite("Sandbox clock and truth control paths")
struct SandboxClockControlTests {
    @Test func clockIsReadAndMovedForwardOnly() async throws {
        try await withSandbox { server, client in
            let url = server.baseURL + "/_sandbox/clock"
            let start = try await client.get(url).json()
            #expect(start["offset_seconds"] as? Double == 0)
            let now = try #require(ISO8601DateFormatter().date(from: start["now"] as? String ?? ""))
            #expect(abs(now.timeIntervalSinceNow) < 60)

            let moved = try await client.send("PUT", url, headers: [:], body: Data(#"{"advance_to_seconds": 3600}"#.utf8))
            #expect(moved.status == 200)
            #expect(try moved.json()["offset_seconds"] as? Double == 3600)
            #expect(try moved.json()["moved"] as? Bool == true)
            #expect(server.clock.offset == 3600)

            let back = try await client.send("PUT", url, headers: [:], body: Data(#"{"offset": "+30m"}"#.utf8))
            #expect(back.status == 200)
            #expect(try back.json()["moved"] as? Bool == false)
            #expect(server.clock.offset == 3600)

            let ahead = try await client.send("PUT", url, headers: [:], body: Data(#"{"offset": "+2d"}"#.utf8))
            #expect(try ahead.json()["offset_seconds"] as? Double == 172_800)
            let later = try #require(ISO8601DateFormatter().date(from: try ahead.json()["now"] as? String ?? ""))
            #expect(abs(later.timeIntervalSinceNow - 172_800) < 60)
            #expect(try await client.get(url).json()["offset_seconds"] as? Double == 172_800)
        }
    }

    @Test(arguments: [
        (#"{"offset": "-1d"}"#, "only moves forward"), (#"{"advance_to_seconds": -5}"#, "only moves forward"),
        (#"{"offset": "+1d", "advance_to_seconds": 5}"#, "advance_to_seconds"), (#"{}"#, "advance_to_seconds"),
        (#"{"offset": 86400}"#, "must be a string"), (#"{"advance_to_seconds": "1d"}"#, "number of seconds"),
        (#"{"when": "+1d"}"#, "unknown field when"), ("not json", "not a JSON object"),
    ])
    func badClockBodiesAreRefusedAndChangeNothing(body: String, reason: String) async throws {
        try await withSandbox { server, client in
            let reply = try await client.send("PUT", server.baseURL + "/_sandbox/clock", headers: [:], body: Data(body.utf8))
            #expect(reply.status == 400)
            #expect((try reply.json()["error"] as? String ?? "").contains(reason), "\(reply.text)")
            #expect(server.clock.offset == 0)
        }
    }

    @Test func truthSaysWhereEveryOrderStands() async throws {
        try await withSandbox { server, client in
            let base = server.endpoint(for: "yay") + "/dom/back-order"
            for name in ["win-truth.com", "lose-truth.com", "auction-truth.com"] {
                #expect(try await client.postJSON(base, #"{"domain_name":"\#(name)"}"#, headers: sandboxYayHeaders).status == 201)
            }
            let url = server.baseURL + "/_sandbox/truth?provider=yay"
            let before = try await client.get(url).json()
            #expect(before["provider"] as? String == "yay")
            let orders = try #require(before["orders"] as? [String: [String: Any]])
            #expect(Set(orders.keys) == ["win-truth.com", "lose-truth.com", "auction-truth.com"])
            #expect(orders.values.allSatisfy { $0["stage"] as? String == "waiting" })
            #expect(orders["win-truth.com"]?["auction_ends"] is NSNull)
            let drop = try #require(ISO8601DateFormatter().date(from: orders["win-truth.com"]?["drop_time"] as? String ?? ""))
            #expect(drop == server.truth(provider: "yay")["win-truth.com"]?.dropTime)
            #expect(drop > Date())

            server.clock.advance(to: 6 * 86_400)
            let after = try #require(try await client.get(url).json()["orders"] as? [String: [String: Any]])
            #expect(after["win-truth.com"]?["stage"] as? String == "won")
            #expect(after["win-truth.com"]?["price"] as? Int == BackorderDestiny.price(of: "win-truth.com", provider: "yay"))
            #expect(after["lose-truth.com"]?["stage"] as? String == "lost")
            #expect(after["auction-truth.com"]?["was_auction"] as? Bool == true)
            let truth = server.truth(provider: "yay")
            for (domain, phase) in truth { #expect(after[domain]?["stage"] as? String == phase.stage.rawValue) }

            for query in ["", "?provider=", "?provider=namecheap"] {
                let reply = try await client.get(server.baseURL + "/_sandbox/truth" + query)
                #expect(reply.status == 400)
                #expect((try reply.json()["error"] as? String ?? "").contains("yay"))
            }
        }
    }
}

@Suite("Sandbox: Yay fake and the drop")
struct SandboxYayDropTests {
    @Test func anOrderLeavesTheActiveListAtItsDropAndCannotBeDeletedAfter() async throws {
        try await withSandbox { server, client in
            let base = server.endpoint(for: "yay") + "/dom/back-order"
            let created = try await client.postJSON(base, #"{"domain_name":"drop-yay.com"}"#, headers: sandboxYayHeaders)
            let result = try #require(try created.json()["result"] as? [String: Any])
            let uuid = try #require(result["uuid"] as? String)
            let placedAt = try #require(server.truth(provider: "yay")["drop-yay.com"])
            #expect(result["expires_on"] as? String == Self.day(placedAt.dropTime))
            #expect(placedAt.stage == .waiting)

            server.clock.advance(to: 6 * 86_400)
            let list = try await client.get(base, headers: sandboxYayHeaders).json()
            #expect((list["result"] as? [Any])?.isEmpty == true)
            #expect(try await client.get(base + "/" + uuid, headers: sandboxYayHeaders).status == 404)
            let refused = try await client.delete(base + "/" + uuid, headers: sandboxYayHeaders)
            #expect(refused.status == 409)
            #expect(refused.text == #"{"result":{},"status_code":409,"status_message":"Conflict"}"#)
            #expect(server.stats().cancelCount("yay", "drop-yay.com") == 0)
            #expect(server.truth(provider: "yay")["drop-yay.com"]?.stage != .waiting)
        }
    }

    @Test func aDeleteBeforeTheDropIsCountedOnceAndFaultsApplyToIt() async throws {
        try await withSandbox { server, client in
            let base = server.endpoint(for: "yay") + "/dom/back-order"
            var uuids: [String] = []
            for name in ["keep-yay.com", "cut-yay.com"] {
                let created = try await client.postJSON(base, #"{"domain_name":"\#(name)"}"#, headers: sandboxYayHeaders)
                uuids.append(try #require((try created.json()["result"] as? [String: Any])?["uuid"] as? String))
            }
            #expect(try await client.delete(base + "/" + uuids[0], headers: sandboxYayHeaders).status == 204)
            #expect(try await client.delete(base + "/" + uuids[0], headers: sandboxYayHeaders).status == 404)
            #expect(server.stats().cancelCount("yay", "keep-yay.com") == 1)
            #expect(server.truth(provider: "yay")["keep-yay.com"] == nil)

            // Faults apply to a DELETE as to a create (not only with applyToLookups): dropped after processing.
            try server.setFaults(FaultPlan(providers: ["yay": ProviderFaults(dropAfterProcessing: 1)]))
            await #expect(throws: (any Error).self) {
                _ = try await client.delete(base + "/" + uuids[1], headers: sandboxYayHeaders)
            }
            #expect(server.stats().cancelCount("yay", "cut-yay.com") == 1)
            #expect(server.stats().faultCount("yay", .dropAfterProcessing) >= 1)
            try server.setFaults(.none)
            let list = try await client.get(base, headers: sandboxYayHeaders).json()
            #expect((list["result"] as? [Any])?.isEmpty == true)
        }
    }

    static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }
}

@Suite("Sandbox world kept between processes")
struct SandboxWorldTests {
    static func scratch() -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("bo-batch-world-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func ordersAndTheClockComeBackInTheNextSandbox() async throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let client = SandboxHTTPClient()
        let first = try await SandboxSession.start(stateDirectory: directory)
        #expect(first.stateFile == (directory as NSString).appendingPathComponent("sandbox-world.json"))
        let base = first.endpoint(for: "yay") + "/dom/back-order"
        let created = try await client.postJSON(base, #"{"domain_name":"kept-yay.com"}"#, headers: sandboxYayHeaders)
        let uuid = try #require((try created.json()["result"] as? [String: Any])?["uuid"] as? String)
        _ = try await client.postJSON(base, #"{"domain_name":"win-kept.com"}"#, headers: sandboxYayHeaders)
        first.clock.advance(to: 60)
        let truthBefore = first.truth(provider: "yay")
        await first.shutdown()

        let file = try #require(FileManager.default.contents(atPath: first.stateFile!))
        let saved = try #require(try JSONSerialization.jsonObject(with: file) as? [String: Any])
        #expect(saved["format"] as? String == "bo-batch-sandbox-world")
        #expect(saved["clock_offset_seconds"] as? Int == 60)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)

        let second = try await SandboxSession.start(stateDirectory: directory)
        #expect(second.clock.offset == 60)
        #expect(second.truth(provider: "yay") == truthBefore)
        let base2 = second.endpoint(for: "yay") + "/dom/back-order"
        let listed = try #require(try await client.get(base2, headers: sandboxYayHeaders).json()["result"] as? [[String: Any]])
        #expect(Set(listed.compactMap { $0["domain_name"] as? String }) == ["kept-yay.com", "win-kept.com"])
        #expect(try await client.postJSON(base2, #"{"domain_name":"kept-yay.com"}"#, headers: sandboxYayHeaders).status == 409)
        // The clock's move is saved at once, before any shutdown.
        second.clock.advance(to: 6 * 86_400)
        let moved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: second.stateFile!))) as? [String: Any])
        #expect(moved["clock_offset_seconds"] as? Int == 6 * 86_400)
        #expect(try await client.delete(base2 + "/" + uuid, headers: sandboxYayHeaders).status == 409)
        #expect(second.truth(provider: "yay")["win-kept.com"]?.stage == .won)
        await second.shutdown()
    }

    @Test func oneProcessAtATimeAndABrokenFileIsNamed() async throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await SandboxSession.start(stateDirectory: directory)
        await #expect(throws: SandboxWorldBusy.self) { _ = try await SandboxSession.start(stateDirectory: directory) }
        await first.shutdown()
        // Given back at shutdown.
        let again = try await SandboxSession.start(stateDirectory: directory)
        await again.shutdown()

        let path = SandboxSession.worldFile(stateDirectory: directory)
        for broken in ["{\"format\":\"bo-batch-sandbox-world\",\"version\":1,\"fakes\":{\"yay\":{\"accounts\":7}}}", "[1,2]", "{\"format\":\"x\"}"] {
            try Data(broken.utf8).write(to: URL(fileURLWithPath: path))
            do {
                let server = try await SandboxSession.start(stateDirectory: directory)
                await server.shutdown()
                Issue.record("\(broken) was accepted")
            } catch {
                #expect("\(error)".contains(path), "\(error)")
                #expect("\(error)".contains("delete it"), "\(error)")
            }
        }
        // The refusal left the lock free.
        try FileManager.default.removeItem(atPath: path)
        let fresh = try await SandboxSession.start(stateDirectory: directory)
        #expect(fresh.truth(provider: "yay").isEmpty)
        await fresh.shutdown()
    }

    @Test func aClosingSaveIsTheLast() async throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await SandboxSession.start(stateDirectory: directory)
        server.clock.advance(to: 120)
        try server.saveState(closing: true)
        let path = try #require(server.stateFile)
        let written = try #require(FileManager.default.contents(atPath: path))
        server.clock.advance(to: 240)
        await server.shutdown()
        #expect(FileManager.default.contents(atPath: path) == written)
        let again = try await SandboxSession.start(stateDirectory: directory)
        #expect(again.clock.offset == 120)
        await again.shutdown()
    }

    @Test func withoutAStateFileNothingIsWritten() async throws {
        try await withSandbox { server, _ in
            #expect(server.stateFile == nil)
            try server.saveState()
        }
    }
}
