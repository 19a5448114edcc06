import BoBatchHTTP
import BoBatchSandbox
import Foundation
import Testing

extension FaultInjectionEndToEndTests {
    /// Answers no client should trust: billion laughs, external entities, bodies far past the size cap, answers cut
    /// in half, and a 16 MB list. The real binary must not crash, must treat an unreadable answer to a create as
    /// "maybe processed" (look it up, never resend blindly) and end with every pair placed exactly once.
    @Suite(.serialized) struct HostileAnswersEndToEndTests {
        func run(_ server: SandboxServer, providers: String, names: [String]) async throws -> (BinaryRunner.Result, String) {
            let dir = Scratch.directory()
            Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
            let env = E2E.environment(server, state: "\(dir)/state", timeout: 20)
            let result = try await BinaryRunner.run(
                ["submit", "--quiet", "--provider", providers, "--out", "out", "list.txt"], environment: env, directory: dir)
            return (result, "\(dir)/out")
        }

        /// Every pair accepted and placed once; with `byLookup`, each settled by a lookup after its unreadable answer
        /// (the answer to a create was treated as "maybe processed", not trusted and not resent).
        @discardableResult
        func expectPlacedOnce(_ server: SandboxServer, _ provider: String, _ names: [String], out: String, byLookup: Bool = true) -> [String: Int] {
            let stats = server.stats()
            var causes: [String: Int] = [:]
            for name in names {
                let o = (try? E2E.outcomes(out, name))?[provider] ?? [:]
                #expect(o["state"] as? String == "accepted", "\(provider) \(name): \(o)")
                #expect(stats.createCount(provider, name) == 1, "\(provider) \(name) created \(stats.createCount(provider, name)) times")
                let message = o["message"] as? String ?? ""
                if byLookup { #expect(message.contains("confirmed by lookup"), "\(provider) \(name) was not settled by lookup: \(message)") }
                causes[Self.causeClass(message), default: 0] += 1
            }
            return causes
        }

        static func causeClass(_ message: String) -> String {
            let m = message.lowercased()
            if !m.contains("confirmed by lookup") { return "accepted from the answer itself" }
            if m.contains("larger than") || m.contains("cut off") || m.contains("too large") { return "over the size cap" }
            if m.contains("document type") || m.contains("doctype") || m.contains("entit") { return "DOCTYPE refused" }
            return "unreadable/truncated"
        }

        @Test(.timeLimit(.minutes(1)))
        func dynadotHostileAndTruncatedXMLIsMaybeProcessedAndSettledByLookup() async throws {
            // Every create is processed, then answered with a billion-laughs or external-entity DOCTYPE, a 3 MB body
            // (the cap for a create answer is 1 MB), or the normal answer cut in half.
            let faults = ProviderFaults(malformedAfterProcessing: 0.25, hostileBody: 0.75, hostileBodyBytes: 3 << 20)
            let server = try await SandboxServer.start(SandboxOptions(faults: FaultPlan(providers: ["dynadot": faults]), seed: 4))
            defer { Task { await server.shutdown() } }
            let names = (0..<1_200).map { "hostile\($0)-xml.com" }  // 12 requests of 100
            let (result, out) = try await run(server, providers: "dynadot", names: names)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let stats = server.stats()
            // Each request sent once: an unreadable answer is looked up, not resent.
            #expect(stats.requestCount("dynadot", "add_backorder_request") == 12)
            #expect(stats.requestCount("dynadot", "backorder_request_list") >= 1)
            #expect(stats.faultCount("dynadot", .hostileBody) + stats.faultCount("dynadot", .malformedAfterProcessing) == 12)
            let causes = expectPlacedOnce(server, "dynadot", names, out: out)
            print("hostile answers (dynadot): \(stats.faults["dynadot"] ?? [:]); causes seen: \(causes)")
            // This seed gives every kind: entity bombs and external entities (DOCTYPE refused), a body over the cap, half answers.
            #expect(Set(causes.keys) == ["DOCTYPE refused", "over the size cap", "unreadable/truncated"], "\(causes)")
            #expect(!result.stderr.contains("/etc/passwd") && !result.stderr.contains("root:x:0"))
            #expect(!(try String(contentsOfFile: "\(out)/\(names[0]).json", encoding: .utf8)).contains("root:x:0"))
        }

        @Test(.timeLimit(.minutes(1)))
        func jsonProvidersHugeAndTruncatedAnswersAreMaybeProcessedAndSettledByLookup() async throws {
            // Yay (charged per POST) and Gname: every create processed, then a 6 MB body (over the 4 MB cap) or half an answer.
            let faults = ProviderFaults(malformedAfterProcessing: 0.5, hostileBody: 0.5, hostileBodyBytes: 6 << 20)
            let server = try await SandboxServer.start(SandboxOptions(faults: FaultPlan(providers: ["yay": faults, "gname": faults]), seed: 5))
            defer { Task { await server.shutdown() } }
            let names = (0..<30).map { "hostile\($0)-json.net" }
            let (result, out) = try await run(server, providers: "yay,gname", names: names)
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let stats = server.stats()
            #expect(stats.requestCount("yay", "POST /dom/back-order") == names.count, "\(stats.requests["yay"] ?? [:])")
            #expect(stats.charges == names.count, "Yay charged \(stats.charges) POSTs for \(names.count) domains")
            #expect(stats.faultCount("yay", .hostileBody) > 0 && stats.faultCount("yay", .malformedAfterProcessing) > 0)
            let gname = expectPlacedOnce(server, "gname", names, out: out)
            let yay = expectPlacedOnce(server, "yay", names, out: out, byLookup: false)
            print("hostile answers (json): yay \(stats.faults["yay"] ?? [:]) → \(yay); gname \(stats.faults["gname"] ?? [:]) → \(gname)")
            #expect(yay["over the size cap", default: 0] > 0 && gname["over the size cap", default: 0] > 0 && gname["unreadable/truncated", default: 0] > 0)
            // Yay: a 201 whose body is cut in half is taken as "created" from the status alone, so the back-order's
            // uuid (needed to cancel it) is lost; a lookup would have recovered it.
            let withoutUUID = names.filter { name in
                let o = (try? E2E.outcomes(out, name))?["yay"] ?? [:]
                return !((o["message"] as? String ?? "").contains("confirmed by lookup") && o["reference"] is String)
            }
            #expect(withoutUUID.isEmpty, "\(withoutUUID.count) Yay back-orders accepted without a lookup and without their uuid, e.g. \(withoutUUID.first ?? "")")
        }

        @Test(.timeLimit(.minutes(1)))
        func aSixteenMegabyteDynadotListSettlesDroppedCreates() async throws {
            // Every create lands, then the connection drops; the lookup's list carries 100,000 more entries (~16 MB).
            let faults = ProviderFaults(dropAfterProcessing: 1, hugeList: 100_000)
            let server = try await SandboxServer.start(SandboxOptions(faults: FaultPlan(providers: ["dynadot": faults])))
            defer { Task { await server.shutdown() } }
            let names = (0..<150).map { "hugelist\($0)-drop.org" }
            let started = Date()
            let (result, out) = try await run(server, providers: "dynadot", names: names)
            print("huge list: \(String(format: "%.1f", Date().timeIntervalSince(started))) s, \(server.stats().requests["dynadot"] ?? [:])")
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let stats = server.stats()
            #expect(stats.requestCount("dynadot", "add_backorder_request") == 2)
            #expect(stats.faultCount("dynadot", .dropAfterProcessing) == 2)
            #expect(stats.requestCount("dynadot", "backorder_request_list") >= 1)
            expectPlacedOnce(server, "dynadot", names, out: out)

            // The answer the client parsed really is that big.
            let url = URL(string: server.endpoint(for: "dynadot") + "?key=\(SandboxCredentials.dynadotKey)&command=backorder_request_list")!
            let answer = try await CurlTransport(userAgent: "e2e-test/1 (test@example.com)").send(
                HTTPRequest(method: .get, url: url.absoluteString, idempotent: true, maxResponseBytes: 64 << 20))
            #expect(answer.body.count > 15_000_000, "the list answer is only \(answer.body.count) bytes")
        }
    }
}
