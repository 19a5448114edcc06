import BoBatchSandbox
import Foundation
import Testing

/// `bin/benchmark` divides bo-batch's figures by those of `bin/benchmark-peer`, a plain Python script doing the
/// same sends. These tests run the peer's request builders against the sandbox: every send must be accepted
/// (one effective create per domain), and a send that is not must make the peer fail, so the benchmark can never
/// compare bo-batch with a script that measures its own failures.
@Suite(.serialized, .enabled(if: BenchmarkPeer.python != nil, "python3 is not installed"))
struct BenchmarkPeerEndToEndTests {
    static let providers = ["dynadot", "gname", "yay", "oneapi", "dnspod"]

    @Test(arguments: providers)
    func everySendOfThePeerIsAcceptedAndARepeatCountsAsFailed(provider: String) async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        // Dynadot takes 100 names a request: 103 make a full request and a short one.
        let count = provider == "dynadot" ? 103 : 5
        let domains = (0..<count).map { "peer-\($0)-drop.\(["com", "net", "org"][$0 % 3])" }
        // Read like bo-batch reads a list: comments, case and a trailing dot do not make new domains.
        Scratch.write("# benchmark list\n" + domains.joined(separator: "\n") + "\nPEER-1-DROP.NET.\n", to: "\(dir)/list.txt")
        var env = SandboxCredentials.environment(for: server)
        env["PATH"] = "/usr/bin:/bin"
        env["DNSPOD_EMAIL"] = "owner@example.com"
        // Two in flight for the one-domain-a-call providers; Dynadot takes one request at a time per key.
        if provider != "dynadot" { env["\(provider.uppercased())_THREADS"] = "2" }

        let first = try await BenchmarkPeer.run([provider, "\(dir)/list.txt"], environment: env)
        #expect(first.status == 0, "stdout: \(first.stdout) stderr: \(first.stderr)")
        #expect(first.stdout == "\(provider): \(count) of \(count) domains accepted\n")
        let stats = server.stats()
        #expect(stats.totalCreates(provider) == count)
        #expect(domains.allSatisfy { stats.createCount(provider, $0) == 1 })
        if provider == "dynadot" { #expect(stats.requestCount(provider, "add_backorder_request") == 2) }

        // Every domain is placed now, and every provider answers a repeat with something other than success
        // (DNSPod mails another code, which is a success, so a wrong login stands in for it).
        if provider == "dnspod" { env["DNSPOD_LOGIN_TOKEN"] = "10001,wrong-token" }
        let again = try await BenchmarkPeer.run([provider, "\(dir)/list.txt"], environment: env)
        #expect(again.status == 1, "stdout: \(again.stdout) stderr: \(again.stderr)")
        #expect(again.stdout == "\(provider): 0 of \(count) domains accepted\n")
    }
}

enum BenchmarkPeer {
    static let script = BinaryRunner.packageRoot.appendingPathComponent("bin/benchmark-peer").path

    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static func run(_ arguments: [String], environment: [String: String]) async throws -> BinaryRunner.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python ?? "/usr/bin/python3")
        process.arguments = [script] + arguments
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Off the Swift concurrency pool: the in-process sandbox answering the script needs it.
        async let stdoutData = offPool { out.fileHandleForReading.readDataToEndOfFile() }
        async let stderrData = offPool { err.fileHandleForReading.readDataToEndOfFile() }
        let (o, e) = await (stdoutData, stderrData)
        await offPool { process.waitUntilExit() }
        return BinaryRunner.Result(
            status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}
