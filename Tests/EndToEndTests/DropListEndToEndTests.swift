import Foundation
import Testing

/// A registry dump fed as published: NASK's .pl list starts with a timestamp line, which is skipped with a
/// note on stderr and a count in summary.json, never reported as an invalid domain
/// (`shared/conformance/droplists/pl-dns-deleted-raw/`, see its SOURCES.md).
@Suite struct DropListEndToEndTests {
    @Test(.timeLimit(.minutes(1)))
    func thePlDumpIsReadWithItsTimestampSkippedAndNothingInvalid() async throws {
        let dump = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../shared/conformance/droplists/pl-dns-deleted-raw/2023-04-18.txt").standardizedFileURL.path
        #expect(FileManager.default.fileExists(atPath: dump), "\(dump) is missing: put shared/ beside the package, as CI does")
        let dir = Scratch.directory()
        let result = try await BinaryRunner.run(
            ["submit", "--sandbox", "--quiet", "--dry-run", "--provider", "dynadot", "--out", "out", dump],
            environment: BinaryRunner.baseEnvironment(state: "\(dir)/state"), directory: dir)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("2023-04-18.txt:1: skipped the leading timestamp line '2023-04-18 08:23:59 MEST'"), "stderr: \(result.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/summary.json"))
        let input = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["input"] as? [String: Any])
        #expect(input["skipped_title_lines"] as? Int == 1)
        #expect(result.stderr.contains("skipped: 1 leading title or timestamp line(s), not domains"), "the summary screen: \(result.stderr)")
        #expect(input["invalid"] as? Int == 0)
        #expect(input["domains"] as? Int == 2485)
    }
}
