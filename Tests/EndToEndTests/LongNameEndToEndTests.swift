import BoBatch
import BoBatchSandbox
import Foundation
import Testing

/// Domain names up to the 253 octets DNS allows, among normal ones, through the real binary, every provider and
/// the sandbox: their result files must be written like any other (issue 7: one long name used to end the
/// projection, leaving other files, invalid.tsv and summary.json unwritten).
@Suite(.serialized) struct LongNameEndToEndTests {
    /// A valid name of exactly `octets`, from labels of at most 63 (the most a label may have), ending in `.com`,
    /// which every sandbox fake accepts. `first` starts it (`taken…` makes it registered, hence rejected); `end`
    /// is its last letter before `.com`, so two names can differ only there.
    static func name(octets: Int, first: String = "long", tag: Character, end: Character = "x") -> String {
        var letters = Substring(first + String(tag) + String(repeating: "x", count: octets))
        var labels: [String] = []
        var budget = octets - ".com".utf8.count
        while budget > 0 {
            // Never leave room for only an empty label after the dot.
            let size = budget > 63 ? min(63, budget - 2) : budget
            labels.append(String(letters.prefix(size)))
            letters = letters.dropFirst(size)
            budget -= size + (budget > size ? 1 : 0)
        }
        labels[labels.count - 1] = String(labels[labels.count - 1].dropLast()) + String(end)
        let name = labels.joined(separator: ".") + ".com"
        precondition(name.utf8.count == octets && labels.allSatisfy { (1...63).contains($0.utf8.count) })
        return name
    }

    static func fileName(_ domain: String) -> String { ResultWriter.fileName(for: domain) }

    @Test func namesUpTo253OctetsEachGetTheirResultFileAndTheRunEndsAsAnyOther() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()

        // Two names of 253 octets that differ only in their last letter, far beyond the kept prefix.
        let twinA = Self.name(octets: 253, tag: "t", end: "y"), twinB = Self.name(octets: 253, tag: "t", end: "z")
        // The longest name that keeps `NAME.json` (200 bytes), and the shortest that does not.
        let fits = Self.name(octets: 195, tag: "b"), shortened = Self.name(octets: 196, tag: "c")
        let long = [240, 245, 249, 250, 251, 252, 253].map { Self.name(octets: $0, tag: "a") } + [twinA, twinB, fits, shortened]
        let takenLong = Self.name(octets: 253, first: "taken", tag: "d")
        let normal = (0..<20).map { "plain\($0).com" }
        let all = Array(normal.prefix(10)) + long + [takenLong] + normal.dropFirst(10)
        // 254 octets is too long for DNS: not a domain, so invalid.tsv has a row.
        let tooLong = Self.name(octets: 253, tag: "e") + "x"
        Scratch.write((all + [tooLong]).joined(separator: "\n") + "\n", to: "\(dir)/list.txt")

        let env = E2E.environment(server, state: "\(dir)/state")
        let args = ["submit", "--quiet", "--provider", E2E.providers.joined(separator: ","), "--run", "long-names", "--out", "out", "list.txt"]
        let result = try await BinaryRunner.run(args, environment: env, directory: dir)
        // 1, as for any run with a rejected domain and a line that is not a domain.
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("cannot write"), "stderr: \(result.stderr)")

        let out = "\(dir)/out"
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out))
        for domain in all {
            let name = Self.fileName(domain)
            #expect(name.utf8.count <= 200, "\(name)")
            #expect(files.contains(name), "no result file for \(domain.utf8.count)-octet \(domain)")
            let file = try Scratch.json("\(out)/\(name)")
            #expect(file["domain"] as? String == domain)
            let outcomes = (file["outcomes"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String: Any] }
            #expect(Set(outcomes.keys) == Set(E2E.providers), "\(domain): \(outcomes.keys)")
            for provider in E2E.providers {
                let expected = domain == takenLong ? "rejected" : "accepted"
                #expect(outcomes[provider]?["state"] as? String == expected, "\(domain.utf8.count) octets at \(provider): \(outcomes[provider] ?? [:])")
            }
        }
        // Names that fit keep `NAME.json`; only the longer ones are shortened, and the twins do not share a file.
        #expect(files.contains("\(normal[0]).json") && files.contains("\(fits).json") && !files.contains("\(shortened).json"))
        #expect(Self.fileName(twinA) != Self.fileName(twinB))
        #expect(files.filter { $0.hasSuffix(".json") && $0 != "summary.json" }.count == all.count)
        #expect(E2E.temporaryFiles(out).isEmpty, "\(E2E.temporaryFiles(out))")

        let invalid = try String(contentsOfFile: "\(out)/invalid.tsv", encoding: .utf8)
        #expect(invalid.contains(tooLong))
        let summary = try Scratch.json("\(out)/summary.json")
        #expect(summary["exit_code"] as? Int == 1)
        #expect(summary["result_file_errors"] as? Int == 0)
        #expect((summary["input"] as? [String: Any])?["domains"] as? Int == all.count)

        // A rerun sends nothing and leaves the same files.
        let requests = E2E.totalRequests(server.stats())
        let again = try await BinaryRunner.run(args, environment: env, directory: dir)
        #expect(again.status == 1, "stderr: \(again.stderr)")
        #expect(E2E.totalRequests(server.stats()) == requests)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: out)) == files)
    }

    @Test func aResultFileThatCannotBeWrittenIsNamedOnStderrAndTheRestIsWritten() async throws {
        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let dir = Scratch.directory()
        let names = (0..<30).map { "site\($0).com" } + [Self.name(octets: 253, tag: "f")]
        Scratch.write(names.joined(separator: "\n") + "\n", to: "\(dir)/list.txt")
        // A directory where one domain's file belongs: renaming onto it fails, for root too.
        try FileManager.default.createDirectory(atPath: "\(dir)/out/site7.com.json", withIntermediateDirectories: true)

        let env = E2E.environment(server, state: "\(dir)/state")
        let args = ["submit", "--quiet", "--provider", "dynadot", "--run", "blocked", "--out", "out", "list.txt"]
        let result = try await BinaryRunner.run(args, environment: env, directory: dir)
        // Every domain was placed (0), but a result file is missing: 5.
        #expect(result.status == 5, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("cannot write out/site7.com.json (the result of site7.com): Is a directory"), "stderr: \(result.stderr)")
        for name in names where name != "site7.com" {
            #expect(E2E.state("\(dir)/out", (Self.fileName(name) as NSString).deletingPathExtension, "dynadot") == "accepted", "\(name)")
        }
        #expect(FileManager.default.fileExists(atPath: "\(dir)/out/invalid.tsv"))
        let summary = try Scratch.json("\(dir)/out/summary.json")
        #expect(summary["exit_code"] as? Int == 5)
        #expect(summary["result_file_errors"] as? Int == 1)
        let listed = (summary["unwritten_result_files"] as? [[String: Any]])?.first
        #expect(listed?["domain"] as? String == "site7.com" && listed?["error"] as? String == "Is a directory", "\(summary)")
        #expect(E2E.temporaryFiles("\(dir)/out").isEmpty)

        // With the way clear, a rerun sends nothing, writes the missing file and ends with 0.
        try FileManager.default.removeItem(atPath: "\(dir)/out/site7.com.json")
        let requests = E2E.totalRequests(server.stats())
        let again = try await BinaryRunner.run(args, environment: env, directory: dir)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(E2E.totalRequests(server.stats()) == requests)
        #expect(E2E.state("\(dir)/out", "site7.com", "dynadot") == "accepted")
        #expect(try Scratch.json("\(dir)/out/summary.json")["result_file_errors"] as? Int == 0)
    }
}
