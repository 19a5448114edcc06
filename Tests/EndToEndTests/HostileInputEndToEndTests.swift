import BoBatchSandbox
import Foundation
import Testing

extension FaultInjectionEndToEndTests {
    /// Input nobody should have to clean up by hand: a binary file, invalid UTF-8, NUL bytes, a 10 MB line, an
    /// unterminated quote — given in the same run as a good list. Each problem gets its own clear message; the
    /// good domains are placed as if nothing happened.
    @Suite(.serialized) struct HostileInputEndToEndTests {
        @Test(.timeLimit(.minutes(1)))
        func badFilesAndBadLinesAreReportedAndTheGoodListIsPlaced() async throws {
            let server = try await SandboxServer.start(SandboxOptions())
            defer { Task { await server.shutdown() } }
            let dir = Scratch.directory()

            // 1. Random bytes with NULs: not a domain list at all.
            var rng = SeededRandom(seed: 77)
            var binary = Data((0..<65_536).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            for i in stride(from: 0, to: binary.count, by: 97) { binary[i] = 0 }
            FileManager.default.createFile(atPath: "\(dir)/blob.bin", contents: binary)

            // 2. A text list with bad lines between good ones.
            var mixed = Data("mixed-good1.com\n".utf8)
            mixed += Data([0x62, 0x61, 0x64, 0xFF, 0xFE, 0x2E, 0x63, 0x6F, 0x6D, 0x0A])  // "bad\xFF\xFE.com": invalid UTF-8
            mixed += Data("mixed-good2.net\n".utf8)
            mixed += Data("nul".utf8) + Data([0]) + Data("byte.com\n".utf8)               // a NUL inside a line
            mixed += Data(repeating: UInt8(ascii: "a"), count: 10 << 20) + Data(".com\n".utf8)  // a 10 MB line
            mixed += Data("mixed-good3.org\n".utf8)
            mixed += Data(repeating: 0xC3, count: 3) + Data("\n".utf8)                   // truncated UTF-8 sequences
            mixed += Data("mixed-good4.io\n".utf8)
            FileManager.default.createFile(atPath: "\(dir)/mixed.txt", contents: mixed)

            // 3. A CSV whose quote never closes.
            Scratch.write("domain,drop date\n\"quoted-good.com\",2030-01-01\n\"never-closed.com,2030-01-02\nafter-quote.com,2030-01-03\n", to: "\(dir)/quotes.csv")

            // 4. The good list.
            let good = (0..<20).map { "good\($0)-list.com" }
            Scratch.write(good.joined(separator: "\n") + "\n", to: "\(dir)/good.txt")

            let env = E2E.environment(server, state: "\(dir)/state")
            let result = try await BinaryRunner.run(
                ["submit", "--quiet", "--provider", "dynadot", "--run", "hostile-input", "--out", "out", "blob.bin", "mixed.txt", "quotes.csv", "good.txt"],
                environment: env, directory: dir)
            #expect(result.status == 1, "stderr: \(result.stderr)")

            // The binary file: one clear message naming it, nothing from it sent.
            #expect(result.stderr.contains("blob.bin") && result.stderr.contains("binary"), "stderr: \(result.stderr)")
            #expect(result.stderr.utf8.count < 20_000, "stderr is flooded (\(result.stderr.utf8.count) bytes)")

            // Every bad line is in invalid.tsv with its own reason, and the file stays small (the 10 MB line is excerpted).
            let tsvPath = "\(dir)/out/invalid.tsv"
            let tsvSize = (try FileManager.default.attributesOfItem(atPath: tsvPath)[.size] as? Int) ?? 0
            #expect(tsvSize < 100_000, "invalid.tsv is \(tsvSize) bytes")
            let tsv = try String(contentsOfFile: tsvPath, encoding: .utf8)
            let rows = tsv.split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
            func reason(_ file: String, _ line: Int) -> String? {
                rows.first { $0.count >= 4 && $0[0].hasSuffix(file) && $0[1] == String(line) }?[3]
            }
            #expect(reason("mixed.txt", 2)?.contains("UTF-8") == true, "\(tsv.prefix(2000))")
            #expect(reason("mixed.txt", 4)?.contains("NUL") == true, "\(tsv.prefix(2000))")
            #expect(reason("mixed.txt", 5)?.contains("longer than") == true, "\(tsv.prefix(2000))")
            #expect(reason("mixed.txt", 7) != nil, "\(tsv.prefix(2000))")
            #expect(rows.contains { $0.count >= 4 && $0[0].hasSuffix("quotes.csv") && $0[3].contains("quote") }, "\(tsv.prefix(2000))")
            #expect(rows.contains { $0.first?.hasSuffix("blob.bin") == true }, "the binary file is not listed: \(tsv.prefix(2000))")

            // The good domains, from every readable file, are placed once each.
            let placed = good + ["mixed-good1.com", "mixed-good2.net", "mixed-good3.org", "mixed-good4.io", "quoted-good.com", "after-quote.com"]
            let stats = server.stats()
            for name in placed {
                #expect(E2E.state("\(dir)/out", name, "dynadot") == "accepted", "\(name)")
                #expect(stats.createCount("dynadot", name) == 1, "\(name)")
            }
            #expect(stats.totalCreates("dynadot") == placed.count, "something that is not a good domain was sent: \(stats.creates["dynadot"] ?? [:])")
        }
    }
}
