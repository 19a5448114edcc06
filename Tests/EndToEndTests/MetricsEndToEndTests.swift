import BoBatchSandbox
import Foundation
import Testing

/// `--metrics-file`: Prometheus's text format, read back by the Prometheus project's own parser
/// (prometheus_client, which bin/test installs), with the values a monitor alerts on.
@Suite struct MetricsEndToEndTests {
    /// Parses `path` with prometheus_client and prints one line per sample: `name{k=v,...} value` (labels sorted).
    func parse(_ path: String) throws -> [String: Double] {
        let script = """
            import sys
            try:
                from prometheus_client.parser import text_string_to_metric_families
            except ImportError:
                print("NO-PARSER"); sys.exit(3)
            text = open(sys.argv[1]).read()
            for family in text_string_to_metric_families(text):
                assert family.documentation, "no HELP for " + family.name
                assert family.type == "gauge", family.name + " is " + family.type
                for s in family.samples:
                    labels = ",".join(k + "=" + v for k, v in sorted(s.labels.items()))
                    print(s.name + "{" + labels + "} " + repr(s.value))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus != 3, "prometheus_client is not installed: python3 -m pip install prometheus-client (bin/test does)")
        #expect(process.terminationStatus == 0, "the parser refused the file: \(String(decoding: errors, as: UTF8.self))")
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test func aRunsMetricsParseAndSayWhatHappenedAndALaterFailureKeepsTheLastSuccess() async throws {
        let server = try await SandboxServer.start(SandboxOptions(faults: FaultPlan(providers: ["yay": ProviderFaults(refuse: 0.3)]), seed: 4))
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        Scratch.write((0..<30).map { "metric\($0)-drop.com" }.joined(separator: "\n") + "\ntaken-metric.com\n", to: "\(dir)/list.txt")
        var env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        env.merge(SandboxCredentials.environment(for: server)) { _, new in new }
        env["YAY_RATE"] = "600000"
        env["DYNADOT_RATE"] = "600000"
        // A run name with a quote: label values must be escaped.
        let run = #"night"1"#
        let args = ["submit", "--quiet", "--provider", "dynadot,yay", "--run", run, "--out", "out", "--metrics-file", "bo-batch.prom", "list.txt"]
        let first = try await BinaryRunner.run(args, environment: env, directory: dir)
        #expect(first.status == 1, "stderr: \(first.stderr)")
        let m = try parse("\(dir)/bo-batch.prom")
        let r = #"run=night"1"#
        #expect(m["bo_batch_pairs{provider=dynadot,\(r),state=accepted}"] == 30)
        #expect(m["bo_batch_pairs{provider=yay,\(r),state=rejected}"] == 1)
        #expect(m["bo_batch_requests{kind=create,provider=dynadot,\(r)}"] == 1)
        #expect((m["bo_batch_requests{kind=create,provider=yay,\(r)}"] ?? 0) >= 31)
        let refused = m["bo_batch_failures{class=refused,provider=yay,\(r)}"] ?? 0
        #expect(refused > 0 && refused == Double(server.stats().faultCount("yay", .refuse)), "refusals counted as the sandbox made them")
        #expect(m["bo_batch_exit_code{\(r)}"] == 1)
        #expect(m["bo_batch_in_progress{\(r)}"] == 0)
        #expect(m["bo_batch_fates{fate=waiting,provider=dynadot,\(r)}"] == 30)
        let success = try #require(m["bo_batch_last_success_timestamp_seconds{\(r)}"])
        #expect(abs(success - Date().timeIntervalSince1970) < 120)

        // A later invocation that fails (a cap stops it: exit 2) keeps the last success time of the one before.
        Scratch.write("metric-more-drop.com\n", to: "\(dir)/more.txt")
        let capped = try await BinaryRunner.run(
            ["submit", "--quiet", "--provider", "dynadot", "--run", run, "--out", "out", "--metrics-file", "bo-batch.prom", "--max-domains", "0", "more.txt"],
            environment: env, directory: dir)
        #expect(capped.status == 2, "stderr: \(capped.stderr)")
        let after = try parse("\(dir)/bo-batch.prom")
        #expect(after["bo_batch_exit_code{\(r)}"] == 2)
        #expect(after["bo_batch_last_success_timestamp_seconds{\(r)}"] == success)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/.bo-batch.prom.\(getpid()).tmp"))
    }
}
