import BoBatch
import BoBatchSandbox
import Foundation
import Testing

/// `submit`'s filters through the real binary: a generated 100,000-line list is cut to exactly the names an
/// independent reckoning here expects, `filtered.tsv` lists every other line with its reason, and the sandbox
/// receives creates for the kept names and no others.
@Suite(.serialized) struct FilterEndToEndTests {
    /// One generated line, with what the test knows about it (never asked of bo-batch).
    struct Line {
        var text: String
        /// The leftmost label as generated, in Unicode, lowercase.
        var label: String
        var tld: String
        var day: Int?
        var valid = true
    }

    static let tlds = ["com", "net", "uk", "co.uk", "de", "xyz", "io", "com"]
    static let block = "block.txt"

    /// 100,000 lines: unique names (some IDN, some with digits or hyphens) under eight TLDs the sandbox takes, with a drop day
    /// from 24 to 31 October or none, 2 % repeated in upper case with their own day, and an invalid line every
    /// 5,000.
    static func generate(seed: UInt64) -> (lines: [Line], blocklist: [String]) {
        var rng = SeededRandom(seed: seed)
        let letters = Array("abcdefghijklmnopqrstuvwxyz"), digits = Array("0123456789"), accented = Array("üöéñ")
        var seen = Set<String>(), lines: [Line] = [], uniques: [Line] = [], blocklist: [String] = []
        func day() -> Int? { Int.random(in: 0..<10, using: &rng) == 0 ? nil : Int.random(in: 24...31, using: &rng) }
        while lines.count < 100_000 {
            if lines.count % 5000 == 4999 {
                lines.append(Line(text: "not a domain \(lines.count)", label: "", tld: "", day: nil, valid: false))
                continue
            }
            if !uniques.isEmpty, Int.random(in: 0..<50, using: &rng) == 0 {
                var again = uniques[Int.random(in: 0..<uniques.count, using: &rng)]
                again.day = day()
                again.text = (again.label + "." + again.tld).uppercased()
                lines.append(again)
                continue
            }
            let length = Int.random(in: 2...11, using: &rng)
            var label = [letters[Int.random(in: 0..<26, using: &rng)]]
            while label.count < length {
                let roll = Int.random(in: 0..<100, using: &rng)
                if roll < 4, label.count < length - 1, label.last != "-" {
                    label.append("-")
                } else if roll < 8 {
                    label.append(digits[Int.random(in: 0..<10, using: &rng)])
                } else {
                    label.append(letters[Int.random(in: 0..<26, using: &rng)])
                }
            }
            if Int.random(in: 0..<7, using: &rng) == 0 { label[Int.random(in: 0..<label.count, using: &rng)] = accented[Int.random(in: 0..<4, using: &rng)] }
            let text = String(label)
            // The sandbox treats these as registered; nothing else about them matters here.
            if text.hasPrefix("taken") || text.hasPrefix("live") { continue }
            let tld = tlds[Int.random(in: 0..<tlds.count, using: &rng)]
            let name = text + "." + tld
            guard seen.insert(name).inserted else { continue }
            let line = Line(text: name, label: text, tld: tld, day: day())
            lines.append(line)
            uniques.append(line)
            if uniques.count % 97 == 0 { blocklist.append(name) }
        }
        return (lines, blocklist)
    }

    /// The reason the filters below give `line`, reckoned from what was generated, in the order bo-batch
    /// documents (the cheapest first); nil when it is kept.
    static func expectedReason(_ line: Line, blocked: Set<String>) -> String? {
        let name = line.label + "." + line.tld
        if !["com", "uk", "co.uk", "io"].contains(line.tld) { return "tld" }
        if line.tld == "co.uk" { return "exclude-tld" }
        guard let day = line.day else { return "no-drop-date" }
        if day < 26 { return "drop-after" }
        if day > 29 { return "drop-before" }
        if line.label.contains("-") { return "no-hyphens" }
        if line.label.contains(where: \.isNumber) { return "no-digits" }
        let characters = line.label.unicodeScalars.count
        if characters < 4 { return "min-length" }
        if characters > 8 { return "max-length" }
        if blocked.contains(name) { return "exclude-file" }
        let idn = line.label.unicodeScalars.contains { !$0.isASCII }
        if !idn, !("a"..."p").contains(line.label.first!) { return "match" }
        if !idn, line.label.hasPrefix("ab") || line.label.hasPrefix("ba") { return "exclude" }
        return nil
    }

    static let filterArguments = [
        "--tld", "com,uk", "--tld", "IO", "--exclude-tld", ".co.uk",
        "--drop-after", "2025-10-26", "--drop-before", "2025-10-29",
        "--no-hyphens", "--no-digits", "--min-length", "4", "--max-length", "8",
        "--exclude-file", block, "--match", "^[a-p]|^xn--", "--exclude", "^(ab|ba)",
    ]

    @Test func filtersCutAHundredThousandLinesToExactlyTheExpectedNamesAndOnlyThoseAreSent() async throws {
        let (lines, blocklist) = Self.generate(seed: 10)
        let blocked = Set(blocklist)
        let dir = Scratch.directory()
        var text = ""
        text.reserveCapacity(lines.count * 24)
        for line in lines {
            text += line.text
            if let day = line.day { text += ",2025-10-\(day)" }
            text += "\n"
        }
        Scratch.write(text, to: "\(dir)/drops.csv")
        // The blocklist in a shape of its own (upper case, a comment, one line that is no domain).
        Scratch.write("# do not want\n" + blocklist.map { $0.uppercased() }.joined(separator: "\n") + "\nnot-a-domain\n", to: "\(dir)/\(Self.block)")

        var expected: [String: Int] = [:]
        var expectedLines = Set<String>()
        var kept = Set<String>()
        for (index, line) in lines.enumerated() where line.valid {
            if let reason = Self.expectedReason(line, blocked: blocked) {
                expected[reason, default: 0] += 1
                expectedLines.insert("\(index + 1)\t\(reason)")
            } else {
                kept.insert(try DomainName(normalizing: line.label + "." + line.tld).ascii)
            }
        }
        // Every filter must have something to do, or this test would not test it.
        #expect(Set(expected.keys) == ["tld", "exclude-tld", "no-drop-date", "drop-after", "drop-before", "no-hyphens", "no-digits",
                                        "min-length", "max-length", "exclude-file", "match", "exclude"], "\(expected)")
        #expect(kept.count > 1000 && kept.count < 6000, "\(kept.count) kept")

        let server = try await SandboxServer.start(SandboxOptions())
        defer { Task { await server.shutdown() } }
        let env = E2E.environment(server, state: "\(dir)/state")
        let result = try await BinaryRunner.run(
            ["submit", "--quiet", "--provider", "dynadot", "--out", "\(dir)/out"] + Self.filterArguments + ["drops.csv"],
            environment: env, directory: dir)
        // 1: the invalid lines make it "some not placed"; everything kept was placed.
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("--exclude-file block.txt: 1 line(s) are not domains"), "\(result.stderr)")

        // filtered.tsv: exactly the expected lines, each with its reason.
        let tsv = try String(contentsOfFile: "\(dir)/out/filtered.tsv", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(tsv.first == "file\tline\tdomain\treason")
        let listed = tsv.dropFirst().map { row -> String in
            let f = row.split(separator: "\t", omittingEmptySubsequences: false)
            return "\(f[1])\t\(f[3])"
        }
        #expect(listed.count == expectedLines.count)
        #expect(Set(listed) == expectedLines)

        // The summary counts the same, per reason; kept names are the run's domains.
        let summary = try Scratch.json("\(dir)/out/summary.json")
        let input = try #require(summary["input"] as? [String: Any])
        #expect(input["filtered"] as? Int == expected.values.reduce(0, +))
        #expect(input["filtered_by_reason"] as? [String: Int] == expected)
        #expect(input["domains"] as? Int == kept.count)
        #expect(input["invalid"] as? Int == lines.filter { !$0.valid }.count)
        // The report says so too, next to the run's other counts.
        let report = try String(contentsOfFile: "\(dir)/out/report.html", encoding: .utf8)
        #expect(report.contains("\(expected.values.reduce(0, +)) lines filtered out ("), "report.html does not count the filtered lines")

        // The sandbox saw one create per kept name and nothing else; only kept names have a result file.
        // (Every kept name is under a TLD the sandbox takes, so each one sent is created; compared by count and
        // difference so that a failure does not print thousands of names.)
        let created = server.stats().creates["dynadot"] ?? [:]
        #expect(created.count == kept.count)
        #expect(Set(created.keys).symmetricDifference(kept).sorted().prefix(20) == [])
        #expect(created.values.allSatisfy { $0 == 1 })
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out").filter { $0.hasSuffix(".json") && $0 != "summary.json" }
        #expect(Set(files.map { String($0.dropLast(5)) }).symmetricDifference(kept).sorted().prefix(20) == [])
    }

    @Test func aBadPatternStopsTheRunBeforeAnythingIsReadWithExit2() async throws {
        let dir = Scratch.directory()
        Scratch.write("example.com\n", to: "\(dir)/list.txt")
        let env = BinaryRunner.baseEnvironment(state: "\(dir)/state")
        let result = try await BinaryRunner.run(["submit", "--sandbox", "--match", "(abc", "list.txt"], environment: env, directory: dir)
        #expect(result.status == 2)
        #expect(result.stderr.contains("--match '(abc': not a valid regular expression: expected ')'"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/state/sandbox/ledger.sqlite"))
    }
}
