import BoBatchSandbox
import Foundation
import Testing

/// The real binary over HTTPS: the sandbox's throwaway certificate, trusted through BO_BATCH_CA_FILE or by
/// `submit --sandbox --sandbox-tls` itself; a CA setting that cannot work stops the run before anything is sent.
@Suite(.serialized) struct TLSEndToEndTests {
    private func yayEnvironment(_ server: SandboxServer, state: String) -> [String: String] {
        var env = BinaryRunner.baseEnvironment(state: state)
        for (name, value) in SandboxCredentials.environment(for: server) where name.hasPrefix("YAY_") { env[name] = value }
        env["YAY_RATE"] = "60000"
        return env
    }

    private func accepted(_ dir: String, _ domain: String) throws -> Bool {
        let file = try Scratch.json("\(dir)/\(domain).json")
        let outcome = (file["outcomes"] as? [String: Any])?["yay"] as? [String: Any]
        return outcome?["state"] as? String == "accepted"
    }

    @Test func submitSandboxTLSTrustsItsOwnCertificate() async throws {
        let dir = Scratch.directory()
        Scratch.write("tls-first.com\ntls-second.net\n", to: "\(dir)/list.txt")
        let env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        let result = try await BinaryRunner.run(
            ["submit", "--sandbox", "--sandbox-tls", "--provider", "yay", "--quiet", "list.txt"], environment: env, directory: dir)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(try accepted("\(dir)/results/sandbox/list", "tls-first.com"))
        #expect(try accepted("\(dir)/results/sandbox/list", "tls-second.net"))
    }

    /// (Without it the certificate cannot be verified and nothing is sent: `CurlTLSTests` shows that, quickly;
    /// a whole run would retry the never-sent create with backoff for minutes first.)
    @Test func theCAFileVariableLetsARunReachAServerTheSystemStoreDoesNotKnow() async throws {
        let server = try await SandboxServer.start(SandboxOptions(tls: true))
        let dir = Scratch.directory()
        Scratch.write("tls-trusted.com\n", to: "\(dir)/list.txt")
        var env = yayEnvironment(server, state: "\(dir)/state")
        env["BO_BATCH_CA_FILE"] = server.caFilePath
        let trusted = try await BinaryRunner.run(
            ["submit", "--provider", "yay", "--quiet", "--run", "trusted", "list.txt"], environment: env, directory: dir)
        #expect(trusted.status == 0, "stderr: \(trusted.stderr)")
        #expect(try accepted("\(dir)/results/trusted", "tls-trusted.com"))
        #expect(server.stats().createCount("yay", "tls-trusted.com") == 1)
        await server.shutdown()
    }

    @Test func aCAFileVariableThatCannotWorkIsAUsageErrorNamingIt() async throws {
        let dir = Scratch.directory()
        Scratch.write("tls-never.com\n", to: "\(dir)/list.txt")
        var env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        env["YAY_RESELLER"] = "r"
        env["YAY_USER"] = "u"
        env["YAY_PASSWORD"] = "p"
        env["YAY_ENDPOINT"] = "https://127.0.0.1:9"
        env["BO_BATCH_CA_FILE"] = "\(dir)/missing-ca.pem"
        let result = try await BinaryRunner.run(["submit", "--provider", "yay", "list.txt"], environment: env, directory: dir)
        #expect(result.status == 2)
        #expect(result.stderr.contains("BO_BATCH_CA_FILE=\(dir)/missing-ca.pem: no such file"), "\(result.stderr)")
    }
}
