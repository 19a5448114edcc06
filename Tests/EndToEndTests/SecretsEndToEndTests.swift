import BoBatchSandbox
import Foundation
import Testing

extension FaultInjectionEndToEndTests {
    /// Keys, passwords and tokens: read from the environment or a private file, and never written anywhere —
    /// not to the terminal, not to a result file, not to the ledger — even when errors quote requests.
    @Suite(.serialized) struct SecretsEndToEndTests {
        /// A second sandbox account (every credential part suffixed), so the secrets are strings no other code uses.
        static let suffix = "-zq7s3ntinel"
        static let dynadotKey = SandboxCredentials.dynadotKey + suffix
        static let yayPassword = SandboxCredentials.yayPassword + suffix
        static let oneapiPassword = SandboxCredentials.oneapiPassword + suffix
        static let gnameAppKey = SandboxCredentials.gnameAppKey + suffix
        static let dnspodToken = SandboxCredentials.dnspodLoginToken + suffix
        static var secrets: [String] { [dynadotKey, yayPassword, oneapiPassword, gnameAppKey, dnspodToken] }

        func writeKeyFile(_ dir: String, mode: mode_t) -> String {
            let path = "\(dir)/dynadot.key"
            Scratch.write(Self.dynadotKey + "\n", to: path)
            chmod(path, mode)
            return path
        }

        func sentinelEnvironment(_ server: SandboxServer, state: String, keyFile: String) -> [String: String] {
            var env = E2E.environment(server, state: state, timeout: 10)
            env["DYNADOT_API_KEY"] = nil
            env["DYNADOT_API_KEY_FILE"] = keyFile
            env["YAY_RESELLER"] = SandboxCredentials.yayReseller + Self.suffix
            env["YAY_USER"] = SandboxCredentials.yayUser + Self.suffix
            env["YAY_PASSWORD"] = Self.yayPassword
            env["ONEAPI_LOGIN"] = SandboxCredentials.oneapiLogin + Self.suffix
            env["ONEAPI_PASSWORD"] = Self.oneapiPassword
            env["GNAME_APPID"] = SandboxCredentials.gnameAppID + Self.suffix
            env["GNAME_APPKEY"] = Self.gnameAppKey
            env["DNSPOD_LOGIN_TOKEN"] = Self.dnspodToken
            return env
        }

        @Test(.timeLimit(.minutes(1)))
        func aKeyFileReadableByOthersIsRefusedWithTheChmodToRun() async throws {
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            Scratch.write("keyfile-one.com\nkeyfile-two.net\n", to: "\(dir)/list.txt")
            let keyFile = writeKeyFile(dir, mode: 0o644)
            let env = sentinelEnvironment(server, state: "\(dir)/state", keyFile: keyFile)
            let arguments = ["submit", "--quiet", "--provider", "dynadot", "--out", "out", "list.txt"]

            let refused = try await BinaryRunner.run(arguments, environment: env, directory: dir)
            #expect(refused.status == 2, "stderr: \(refused.stderr)")
            #expect(refused.stderr.contains("chmod 600 \(keyFile)"), "stderr: \(refused.stderr)")
            #expect(!refused.stderr.contains(Self.dynadotKey))
            #expect(E2E.totalRequests(server.stats()) == 0, "something was sent")

            chmod(keyFile, 0o600)
            let works = try await BinaryRunner.run(arguments, environment: env, directory: dir)
            #expect(works.status == 0, "stderr: \(works.stderr)")
            #expect(E2E.state("\(dir)/out", "keyfile-one.com", "dynadot") == "accepted")
            #expect(server.stats().createCount("dynadot", "keyfile-two.net") == 1)
            #expect(!(works.stdout + works.stderr).contains(Self.dynadotKey))
        }

        @Test(.timeLimit(.minutes(1)))
        func noSecretAppearsInOutputResultsLogsOrLedgerEvenWhenErrorsQuoteRequests() async throws {
            // Errors of every class, so messages that describe requests (URLs with key=…, bodies) get recorded.
            let faults = ProviderFaults(
                refuse: 0.05, dropBeforeProcessing: 0.1, dropAfterProcessing: 0.1, serverErrorAfterProcessing: 0.1,
                malformedAfterProcessing: 0.1, hostileBody: 0.05, hostileBodyBytes: 2 << 20)
            var plan = FaultPlan(providers: ["*": faults])
            plan.providers["oneapi"] = ProviderFaults(dropBeforeProcessing: 0.1, dropAfterProcessing: 0.1, serverErrorAfterProcessing: 0.1, malformedAfterProcessing: 0.1)
            plan.providers["dnspod"] = plan.providers["oneapi"]
            let server = try await SandboxServer.start(SandboxOptions(faults: plan, seed: 9))
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()
            let names = (0..<40).map { $0 % 8 == 3 ? "taken-secret\($0).com" : "secret\($0)-drop.com" } + ["bad domain.com"]
            Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
            let env = sentinelEnvironment(server, state: "\(dir)/state", keyFile: writeKeyFile(dir, mode: 0o600))

            /// Every place a secret could end up: output, result files, the ledger with its write-ahead log.
            func expectNoSecret(output: [(String, String)], phase: String) throws -> [String] {
                var places = output.map { ($0.0, Data($0.1.utf8)) }
                for file in try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out") {
                    places.append(("out/\(file)", try Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/\(file)"))))
                }
                for file in try FileManager.default.contentsOfDirectory(atPath: "\(dir)/state") where file.hasPrefix("ledger.sqlite") {
                    places.append(("state/\(file)", try Data(contentsOf: URL(fileURLWithPath: "\(dir)/state/\(file)"))))
                }
                for (place, bytes) in places {
                    for secret in Self.secrets {
                        #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(phase): \(place) contains the secret \(secret)")
                    }
                }
                return places.map(\.0)
            }

            // Killed mid-run, the ledger's write-ahead log is still there to be read.
            var slow = plan
            for (name, faults) in plan.providers {
                var withLatency = faults
                withLatency.latency = .fixed(ms: 15)
                slow.providers[name] = withLatency
            }
            try server.setFaults(slow)
            let killed = try LaunchedBinary(["submit", "--out", "out", "list.txt"], environment: env, directory: dir, label: "secrets")
            #expect(await eventually(within: 20) { killed.exited != nil || E2E.totalCreates(server.stats()) >= 15 })
            killed.send(SIGKILL)
            _ = await killed.waitForExit()
            let first = try expectNoSecret(output: [("stdout", killed.stdout), ("stderr", killed.stderr)], phase: "after kill -9")
            #expect(first.contains("state/ledger.sqlite-wal"), "no write-ahead log to check: \(first)")

            // Not quiet: progress and summary lines are output too.
            try server.setFaults(plan)
            // With a JSON log file: every send, answer, refusal and lookup is written there too, masked the same way.
            let result = try await BinaryRunner.run(
                ["submit", "--log-format", "json", "--log-file", "log.ndjson", "--out", "out", "list.txt"], environment: env, directory: dir)
            #expect([1, 3].contains(result.status), "stderr: \(result.stderr)")
            #expect(E2E.totalCreates(server.stats()) > 15, "the sentinel accounts were not used")
            let log = try String(contentsOfFile: "\(dir)/log.ndjson", encoding: .utf8)
            let second = try expectNoSecret(output: [("stdout", result.stdout), ("stderr", result.stderr), ("log.ndjson", log)], phase: "after the rerun")
            let events = log.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(!events.isEmpty && events.allSatisfy { $0 != nil }, "every log line is one JSON object")
            let answered = events.compactMap { $0 }.filter { $0["event"] as? String == "create answered" }
            #expect(answered.count > 15)
            #expect(answered.allSatisfy { $0["run"] as? String == "list" && $0["provider"] is String && $0["intent"] is Int
                && $0["domains"] is Int && $0["duration_ms"] is Int && $0["time"] is String && $0["level"] as? String == "debug" })
            #expect((try FileManager.default.attributesOfItem(atPath: "\(dir)/log.ndjson")[.posixPermissions] as? Int) == 0o600)
            #expect(second.contains("state/ledger.sqlite"))
            // The errors really were recorded (so the check above looked at messages that quote requests).
            let messages = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out").filter { $0.hasSuffix(".com.json") }
                .compactMap { try? String(contentsOfFile: "\(dir)/out/\($0)", encoding: .utf8) }.joined()
            #expect(messages.contains("127.0.0.1"), "no recorded message mentions a request")
        }
    }
}
