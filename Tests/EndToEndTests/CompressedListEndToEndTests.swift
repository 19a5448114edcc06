import Foundation
import Testing

/// Deletion lists as they are downloaded, gzip'd or zipped, straight into `submit --sandbox`: the real binary
/// reads them streamed and every domain in them reaches the sandbox. Archives are made by Python's gzip and
/// zipfile modules in the test, not committed.
@Suite(.serialized) struct CompressedListEndToEndTests {
    /// Runs a Python snippet with `out` (a path in `dir`) and `arg` (JSON) set.
    func python(_ dir: String, _ name: String, _ script: String, _ argument: Any) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        // The argument goes in on stdin: a long list is over the limit of a command line.
        let json = try JSONSerialization.data(withJSONObject: argument, options: [.fragmentsAllowed])
        let input = Pipe()
        process.standardInput = input
        process.arguments = ["-c", "import gzip, json, sys, zipfile\nout = sys.argv[1]\narg = json.load(sys.stdin)\n" + script, "\(dir)/\(name)"]
        try process.run()
        input.fileHandleForWriting.write(json)
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python failed making \(name)")
    }

    @Test(.timeLimit(.minutes(2)))
    func aGzipListAZippedHexonetCSVAndGzipOnStdinReachTheSandbox() async throws {
        let dir = Scratch.directory()
        // A plain list, gzip'd, under a name that ends in .txt.gz.
        let gzipped = (0..<60).map { "gz\($0)-drop.com" }
        try python(dir, "drops.txt.gz", "open(out, 'wb').write(gzip.compress(arg.encode()))",
                   "# pending deletes, 2030-08-20\n" + gzipped.joined(separator: "\n") + "\n")
        // HEXONET's pending-delete export: `;`-separated, no header, `domain;YYYY-MM-DD HH:MM:SS`, zipped (deflate).
        let hexonet = (0..<40).map { "hx\($0)-drop.net" }
        try python(dir, "pending.csv.zip", """
            with zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_DEFLATED) as z:
                z.writestr('pending_delete_domains.csv', arg)
            """, hexonet.map { "\($0);2030-08-20 17:00:00" }.joined(separator: "\r\n") + "\r\n")
        // Standard input may be gzip too.
        let piped = (0..<10).map { "stdin\($0)-drop.org" }
        try python(dir, "piped.gz", "open(out, 'wb').write(gzip.compress(arg.encode()))", piped.joined(separator: "\n"))
        let pipedBytes = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/piped.gz"))
        #expect(pipedBytes.prefix(2) == Data([0x1F, 0x8B]))

        var env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        for provider in E2E.providers { env["\(provider.uppercased())_RATE"] = "100000" }
        let result = try await BinaryRunner.run(
            ["submit", "--sandbox", "--quiet", "--out", "out", "drops.txt.gz", "pending.csv.zip", "-"], environment: env, directory: dir, stdin: pipedBytes)
        #expect(result.status == 0, "stderr: \(result.stderr)")

        let summary = try Scratch.json("\(dir)/out/summary.json")
        let input = try #require(summary["input"] as? [String: Any])
        #expect(input["domains"] as? Int == gzipped.count + hexonet.count + piped.count, "\(input)")
        #expect(input["invalid"] as? Int == 0, "\(input); stderr: \(result.stderr)")
        for name in gzipped + hexonet + piped {
            let outcomes = try E2E.outcomes("\(dir)/out", name)
            for provider in E2E.providers {
                #expect(outcomes[provider]?["state"] as? String == "accepted", "\(name) at \(provider): \(outcomes[provider] ?? [:])")
            }
        }
        // Where each name came from: the member of the archive, with its line.
        let first = try Scratch.json("\(dir)/out/hx0-drop.net.json")
        #expect(first["source"] as? String == "pending.csv.zip:pending_delete_domains.csv:1", "\(first)")
        #expect(first["drop_time"] != nil, "the drop date column was not read: \(first)")
        #expect((try Scratch.json("\(dir)/out/gz0-drop.com.json"))["source"] as? String == "drops.txt.gz:2")
        #expect((try Scratch.json("\(dir)/out/stdin0-drop.org.json"))["source"] as? String == "stdin:1")
    }

    @Test(.timeLimit(.minutes(1)))
    func aCutShortArchiveKeepsTheLinesBeforeTheCutAndSaysWhichFile() async throws {
        let dir = Scratch.directory()
        let names = (0..<20_000).map { "cut\($0)-drop.com" }
        try python(dir, "whole.gz", "open(out, 'wb').write(gzip.compress(arg.encode()))", names.joined(separator: "\n") + "\n")
        let whole = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/whole.gz"))
        FileManager.default.createFile(atPath: "\(dir)/cut.txt.gz", contents: whole.prefix(whole.count / 2))
        try python(dir, "members.zip", """
            with zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_DEFLATED) as z:
                z.writestr('a.txt', 'one-drop.com\\n')
                z.writestr('logo.png', b'\\x89PNG\\r\\n\\x1a\\n' + bytes(range(256)) * 4)
                z.writestr('b.txt', 'two-drop.com\\n')
            """, 0)

        let env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        let result = try await BinaryRunner.run(
            ["submit", "--sandbox", "--dry-run", "--quiet", "--out", "out", "cut.txt.gz", "members.zip"], environment: env, directory: dir)
        // A list cut short is not a quiet success: it is in invalid.tsv and the dry run exits 1.
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let invalid = try String(contentsOfFile: "\(dir)/out/invalid.tsv", encoding: .utf8)
        #expect(invalid.contains("cut.txt.gz\t0\t") && invalid.contains("cut short"), "invalid.tsv: \(invalid)")
        #expect(result.stderr.contains("bo-batch: cut.txt.gz: the gzip data is cut short: the file ends inside compressed data, after "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("bo-batch: members.zip:logo.png: skipped, it is a PNG image"), "stderr: \(result.stderr)")
        let summary = try Scratch.json("\(dir)/out/summary.json")
        let input = try #require(summary["input"] as? [String: Any])
        let domains = try #require(input["domains"] as? Int)
        // Every whole line before the cut is in the ledger, and both text members of the zip.
        #expect(domains > 2000 && domains < names.count + 2, "\(input)")
        #expect(input["invalid"] as? Int == 1, "\(input)")
        #expect(summary["run"] as? String == "cut", "a .txt.gz names its run as the .txt would")
    }

    /// The next night's rerun, with the list downloaded again whole: the cut is no longer reported, and the run
    /// no longer exits 1 for it (invalid.tsv says what is wrong with the latest reading of each file).
    @Test(.timeLimit(.minutes(1)))
    func aListDownloadedAgainWholeClearsTheCutOnTheRerun() async throws {
        let dir = Scratch.directory()
        let names = (0..<5_000).map { "again\($0)-drop.com" }
        try python(dir, "whole.gz", "open(out, 'wb').write(gzip.compress(arg.encode()))", names.joined(separator: "\n") + "\n")
        let whole = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/whole.gz"))
        FileManager.default.createFile(atPath: "\(dir)/drops.txt.gz", contents: whole.prefix(whole.count / 2))
        let env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        let arguments = ["submit", "--sandbox", "--dry-run", "--quiet", "--out", "out", "drops.txt.gz"]
        let cut = try await BinaryRunner.run(arguments, environment: env, directory: dir)
        #expect(cut.status == 1, "stderr: \(cut.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/out/invalid.tsv", encoding: .utf8).contains("cut short"))

        FileManager.default.createFile(atPath: "\(dir)/drops.txt.gz", contents: whole)
        let again = try await BinaryRunner.run(arguments, environment: env, directory: dir)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/out/invalid.tsv", encoding: .utf8) == "file\tline\ttext\treason\n")
        let input = try #require((try Scratch.json("\(dir)/out/summary.json"))["input"] as? [String: Any])
        #expect(input["invalid"] as? Int == 0, "\(input)")
        #expect(input["domains"] as? Int == names.count, "\(input)")
    }
}
