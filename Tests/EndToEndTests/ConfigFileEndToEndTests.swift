import BoBatchSandbox
import Foundation
import Testing

/// The config file through the real binary: its settings drive `submit` (flags > environment > file), its
/// credentials reach the providers, `config check` says where each setting came from with secrets masked, and a
/// shared file holding a secret, or an unknown key, is a usage error before anything is read or sent.
@Suite(.serialized) struct ConfigFileEndToEndTests {
    /// A secret no other test uses, to search the output for.
    static let fileSecret = "cfg-file-secret-5qv81x"

    func writeConfig(_ text: String, in dir: String, mode: mode_t = 0o600) -> String {
        let path = "\(dir)/bo-batch.toml"
        Scratch.write(text, to: path)
        chmod(path, mode)
        return path
    }

    func files(_ dir: String) -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") && $0 != "summary.json" && $0 != "plan.json" })
    }

    @Test(.timeLimit(.minutes(2)))
    func theFileDrivesASandboxSubmitUnderTheEnvironmentAndTheFlags() async throws {
        let dir = Scratch.directory()
        Scratch.write("keep-one.com\ndrop-one.net\nkeep-two.com\ndrop-two.org\n", to: "\(dir)/drops.txt")
        let config = writeConfig("""
            [defaults]
            state = "\(dir)/file-state"
            results = "file-results"

            [dynadot]
            api_key = "\(Self.fileSecret)"
            threads = 2

            [filters]
            tld = ["com"]
            """, in: dir)
        // The environment names no state directory: the file's is used.
        var env = BinaryRunner.baseEnvironment(state: "\(dir)/home")
        env["BO_BATCH_STATE_DIR"] = nil
        let first = try await BinaryRunner.run(["submit", "--sandbox", "--quiet", "--config", config, "drops.txt"], environment: env, directory: dir)
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(files("\(dir)/file-results/sandbox/drops") == ["keep-one.com.json", "keep-two.com.json"], "the file's [defaults] results and [filters] tld")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/file-state/sandbox/ledger.sqlite"), "the file's [defaults] state")
        let filtered = try String(contentsOfFile: "\(dir)/file-results/sandbox/drops/filtered.tsv", encoding: .utf8)
        #expect(filtered.contains("drop-one.net") && filtered.contains("drop-two.org"))

        // The environment wins over the file (BO_BATCH_STATE_DIR over [defaults] state) ...
        env["BO_BATCH_STATE_DIR"] = "\(dir)/env-state"
        let second = try await BinaryRunner.run(["submit", "--sandbox", "--quiet", "--config", config, "--run", "second", "drops.txt"], environment: env, directory: dir)
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/env-state/sandbox/ledger.sqlite"))
        #expect(files("\(dir)/file-results/sandbox/second") == ["keep-one.com.json", "keep-two.com.json"])

        // ... and flags win over both: --state, --out, --tld.
        let third = try await BinaryRunner.run(
            ["submit", "--sandbox", "--quiet", "--config", config, "--run", "third", "--state", "\(dir)/flag-state", "--out", "flag-out", "--tld", "net", "drops.txt"],
            environment: env, directory: dir)
        #expect(third.status == 0, "stderr: \(third.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/flag-state/ledger.sqlite"))
        #expect(files("\(dir)/flag-out") == ["drop-one.net.json"])
        for result in [first, second, third] {
            #expect(!result.stdout.contains(Self.fileSecret) && !result.stderr.contains(Self.fileSecret))
        }
    }

    /// Credentials and endpoint from the file alone reach the provider: a real (not --sandbox) submit against a
    /// sandbox server started here, with nothing in the environment but PATH, HOME and LANG. The file is found
    /// at $XDG_CONFIG_HOME/bo-batch/config.toml, no --config given.
    @Test(.timeLimit(.minutes(2)))
    func credentialsFromTheFileAtTheDefaultLocationReachTheProvider() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        Scratch.write("file-creds-one.com\nfile-creds-two.net\n", to: "\(dir)/list.txt")
        try FileManager.default.createDirectory(atPath: "\(dir)/xdg/bo-batch", withIntermediateDirectories: true)
        let sandboxEnv = SandboxCredentials.environment(for: server)
        let config = writeConfig("""
            [defaults]
            state = "\(dir)/state"

            [dynadot]
            api_key = "\(SandboxCredentials.dynadotKey)"
            endpoint = "\(sandboxEnv["DYNADOT_ENDPOINT"]!)"
            rate = 100000
            """, in: dir)
        try FileManager.default.moveItem(atPath: config, toPath: "\(dir)/xdg/bo-batch/config.toml")
        let env = ["PATH": "/usr/bin:/bin", "HOME": dir, "LANG": "C.UTF-8", "XDG_CONFIG_HOME": "\(dir)/xdg"]
        let result = try await BinaryRunner.run(["submit", "--quiet", "--out", "out", "list.txt"], environment: env, directory: dir)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(E2E.state("\(dir)/out", "file-creds-one.com", "dynadot") == "accepted")
        #expect(server.stats().createCount("dynadot", "file-creds-two.net") == 1)
        #expect(!result.stdout.contains(SandboxCredentials.dynadotKey) && !result.stderr.contains(SandboxCredentials.dynadotKey))

        let providers = try await BinaryRunner.run(["providers"], environment: env, directory: dir)
        #expect(providers.stdout.contains(sandboxEnv["DYNADOT_ENDPOINT"]!) || providers.stdout.contains("127.0.0.1"), "\(providers.stdout)")
    }

    /// `http.ca_file` is read far from any command's environment (by each new transport): the file's value must
    /// reach it too. A value that cannot work is 2 before anything is sent, naming the variable and the file's key.
    @Test(.timeLimit(.minutes(2)))
    func theFilesCAFileLetsARunReachAnHTTPSServer() async throws {
        let server = try await SandboxServer.start(SandboxOptions(tls: true))
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        Scratch.write("cfg-tls.com\n", to: "\(dir)/list.txt")
        let sandboxEnv = SandboxCredentials.environment(for: server)
        func config(ca: String) -> String {
            writeConfig("""
                [http]
                ca_file = "\(ca)"
                [yay]
                reseller = "\(sandboxEnv["YAY_RESELLER"]!)"
                user = "\(sandboxEnv["YAY_USER"]!)"
                password = "\(sandboxEnv["YAY_PASSWORD"]!)"
                endpoint = "\(sandboxEnv["YAY_ENDPOINT"]!)"
                rate = 60000
                """, in: dir)
        }
        #expect(sandboxEnv["YAY_ENDPOINT"]!.hasPrefix("https://"))
        let env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        let good = config(ca: try #require(server.caFilePath))
        let trusted = try await BinaryRunner.run(["submit", "--quiet", "--config", good, "--out", "out", "list.txt"], environment: env, directory: dir)
        #expect(trusted.status == 0, "stderr: \(trusted.stderr)")
        #expect(E2E.state("\(dir)/out", "cfg-tls.com", "yay") == "accepted")

        let bad = config(ca: "\(dir)/missing-ca.pem")
        let refused = try await BinaryRunner.run(["submit", "--quiet", "--config", bad, "--run", "bad", "list.txt"], environment: env, directory: dir)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("BO_BATCH_CA_FILE=\(dir)/missing-ca.pem: no such file"), "\(refused.stderr)")
        #expect(refused.stderr.contains("(set in \(bad) as http.ca_file)"), "\(refused.stderr)")
        #expect(!refused.stderr.contains(sandboxEnv["YAY_PASSWORD"]!) && !trusted.stderr.contains(sandboxEnv["YAY_PASSWORD"]!))
        #expect(server.stats().createCount("yay", "cfg-tls.com") == 1)
    }

    @Test func configCheckShowsEachSourceAndMasksSecrets() async throws {
        let dir = Scratch.directory()
        Scratch.write("file-key-from-a-file-\(Self.fileSecret)\n", to: "\(dir)/yay.pass")
        chmod("\(dir)/yay.pass", 0o600)
        let config = writeConfig("""
            [dynadot]
            api_key = "\(Self.fileSecret)"
            threads = 2
            rate = 30

            [yay]
            reseller = "r1"
            user = "u1"
            password_file = "\(dir)/yay.pass"
            """, in: dir)
        var env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        env["DYNADOT_THREADS"] = "4"
        env["ONEAPI_LOGIN"] = "env-login"
        env["ONEAPI_PASSWORD"] = "env-\(Self.fileSecret)"
        let check = try await BinaryRunner.run(["config", "check", "--config", config], environment: env, directory: dir)
        #expect(check.status == 0, "stderr: \(check.stderr)")
        let lines = check.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.first == "config file: \(config) (--config)")
        #expect(lines.contains("dynadot.api_key **** file \(config)"), "\(check.stdout)")
        #expect(lines.contains("dynadot.threads 4 env DYNADOT_THREADS"))
        #expect(lines.contains("dynadot.rate 30 file \(config)"))
        #expect(lines.contains("yay.password_file \(dir)/yay.pass file \(config)"))
        #expect(lines.contains("oneapi.password **** env ONEAPI_PASSWORD"))
        #expect(lines.contains("defaults.state \(dir)/state env BO_BATCH_STATE_DIR"))
        #expect(lines.contains("providers configured: dynadot, yay, oneapi"))
        #expect(!check.stdout.contains(Self.fileSecret) && !check.stderr.contains(Self.fileSecret), "a secret was printed")

        let all = try await BinaryRunner.run(["config", "check", "--all", "--config", config], environment: env, directory: dir)
        #expect(all.stdout.contains("gname.appkey") && all.stdout.contains("default"))
        #expect(!all.stdout.contains(Self.fileSecret))

        // Shared with the group: refused, by check and by every command, with the chmod to run.
        chmod(config, 0o640)
        for arguments in [["config", "check", "--config", config], ["submit", "--sandbox", "--config", config, "x.txt"], ["status", "--config", config]] {
            let refused = try await BinaryRunner.run(arguments, environment: env, directory: dir)
            #expect(refused.status == 2, "\(arguments): \(refused.stderr)")
            #expect(refused.stderr.contains("run: chmod 600 \(config)"), "\(refused.stderr)")
            #expect(!refused.stdout.contains(Self.fileSecret) && !refused.stderr.contains(Self.fileSecret))
        }

        // An unknown key: 2, with the line and the nearest known key.
        let typo = writeConfig("[filters]\ntlds = [\"com\"]\n", in: dir, mode: 0o644)
        let bad = try await BinaryRunner.run(["config", "check", "--config", typo], environment: env, directory: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("\(typo) line 2: unknown key filters.tlds; did you mean filters.tld?"), "\(bad.stderr)")
        // A --config that is not there: 2, naming it.
        let missing = try await BinaryRunner.run(["providers", "--config", "\(dir)/nope.toml"], environment: env, directory: dir)
        #expect(missing.status == 2 && missing.stderr.contains("--config \(dir)/nope.toml: no such file"))
        // A usable file with an unusable setting: check says which, 2.
        let unusable = writeConfig("[dynadot]\napi_key_file = \"\(dir)/yay.pass\"\naccount = \"huge\"\n", in: dir, mode: 0o644)
        let invalid = try await BinaryRunner.run(["config", "check", "--config", unusable], environment: env, directory: dir)
        #expect(invalid.status == 2 && invalid.stderr.contains("DYNADOT_ACCOUNT=huge is not one of regular, bulk, super-bulk (set in \(unusable) as dynadot.account)"), "\(invalid.stderr)")
    }
}
