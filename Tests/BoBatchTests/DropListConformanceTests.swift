import Foundation
import Testing

@testable import BoBatch

/// Deletion lists as they are published, through the reader and the normalizer as `submit` runs them: the real
/// dumps in `shared/conformance/droplists/` (see its SOURCES.md; read at run time from `../shared/` beside the
/// package, where CI puts it), the files in `samples/`, and the shapes SOURCES.md documents without a sample file,
/// built here. Each must come out with zero false "invalid" lines.
enum DropListFixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let droplists = packageRoot.appendingPathComponent("../shared/conformance/droplists").standardizedFileURL

    struct Real: Sendable, CustomTestStringConvertible {
        var path: String
        var url: URL
        var domains: Int
        var aLabels: Int
        /// The line of a skipped leading title or timestamp, if the file has one.
        var skipped: (line: Int, kind: SkippedLine.Kind)?
        /// The drop date (or time) every line carries, when the list has one, in UTC.
        var dropDay: String?
        /// Lines that really are not domains (samples/ has a few on purpose), by line number.
        /// `aLabels` counts the names that come out as `xn--`, whether given as A-labels or in Unicode.
        var trulyInvalid: [Int] = []

        var testDescription: String { path }
    }

    static let real: [Real] = [
        // NASK's dns.pl/deleted_domains.txt: a timestamp line, a blank line, then one name per line.
        Real(path: "pl-dns-deleted-raw/2022-07-05.txt", url: droplists.appendingPathComponent("pl-dns-deleted-raw/2022-07-05.txt"),
             domains: 1800, aLabels: 18, skipped: (1, .timestamp)),
        Real(path: "pl-dns-deleted-raw/2023-04-18.txt", url: droplists.appendingPathComponent("pl-dns-deleted-raw/2023-04-18.txt"),
             domains: 2485, aLabels: 246, skipped: (1, .timestamp)),
        Real(path: "pl-dns-deleted-cleaned/2025-08-19.txt", url: droplists.appendingPathComponent("pl-dns-deleted-cleaned/2025-08-19.txt"),
             domains: 2310, aLabels: 19),
        // Markdown: `# heading` lines are comments, `- name` bullets are names.
        Real(path: "pl-dns-deleted-cleaned/2025-08-19.md", url: droplists.appendingPathComponent("pl-dns-deleted-cleaned/2025-08-19.md"),
             domains: 2310, aLabels: 19),
        // Header `domain,tld,release_date,...`: release_date is the drop date.
        Real(path: "se-nu-iis-derived/2026-01-11.csv", url: droplists.appendingPathComponent("se-nu-iis-derived/2026-01-11.csv"),
             domains: 93, aLabels: 7, dropDay: "2026-01-11"),
        Real(path: "samples/drops-2025-10-27.txt", url: packageRoot.appendingPathComponent("samples/drops-2025-10-27.txt"),
             domains: 322, aLabels: 6, trulyInvalid: [23, 43, 56, 125, 175, 243, 320]),
        Real(path: "samples/drops-2025-10-27-dates.csv", url: packageRoot.appendingPathComponent("samples/drops-2025-10-27-dates.csv"),
             domains: 20, aLabels: 0, dropDay: "2025-10-27"),
        Real(path: "samples/drops-2025-10-28-semicolon.csv", url: packageRoot.appendingPathComponent("samples/drops-2025-10-28-semicolon.csv"),
             domains: 10, aLabels: 0, dropDay: "2025-10-28 18:00"),
        Real(path: "samples/drops-2025-10-29-header.csv", url: packageRoot.appendingPathComponent("samples/drops-2025-10-29-header.csv"),
             domains: 10, aLabels: 0, dropDay: "2025-10-29", trulyInvalid: [12]),
    ]

    struct Outcome {
        var domains: [(name: DomainName, line: Int, drop: Date?)] = []
        var invalid: [(line: Int, text: String, reason: String)] = []
        var skipped: SkippedLine?
    }

    /// What `submit` does with a file: the reader's items, each domain through the normalizer.
    static func read(_ path: String, options: InputOptions = InputOptions()) throws -> Outcome {
        let reader = try DomainListReader(path: path, options: options)
        var outcome = Outcome(skipped: reader.skippedTitle)
        while let item = try reader.next() {
            switch item {
            case .domain(let text, let location, let attributes):
                do {
                    outcome.domains.append((try DomainName(normalizing: text), location.line, attributes.dropTime))
                } catch {
                    outcome.invalid.append((location.line, text, error.reason))
                }
            case .problem(let location, let text, let reason):
                outcome.invalid.append((location.line, text, reason))
            }
        }
        return outcome
    }

    static func day(_ text: String) -> Date? { DropDateParser.parse(text) }

    /// A documented shape, written to a temporary file.
    static func written(_ name: String, _ text: String) throws -> (path: String, cleanup: () -> Void) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bo-batch-droplists-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return (url.path, { try? FileManager.default.removeItem(at: directory) })
    }
}

@Suite struct DropListConformanceTests {
    @Test func theFixturesArePresent() {
        for fixture in DropListFixtures.real {
            #expect(FileManager.default.fileExists(atPath: fixture.url.path), """
                \(fixture.url.path) is missing: these tests read the shared conformance material from ../shared/conformance/ \
                beside the package (as CI lays it out); put shared/ there, do not skip the tests
                """)
        }
    }

    @Test("real deletion list, zero false invalid lines", arguments: DropListFixtures.real)
    func realList(_ fixture: DropListFixtures.Real) throws {
        let outcome = try DropListFixtures.read(fixture.url.path)
        let invalid = outcome.invalid.filter { !fixture.trulyInvalid.contains($0.line) }
        #expect(invalid.isEmpty, "\(invalid.count) false invalid lines, first: \(invalid.prefix(5).map { "\($0.line): '\($0.text)' \($0.reason)" })")
        #expect(outcome.invalid.map(\.line) == fixture.trulyInvalid)
        #expect(outcome.domains.count == fixture.domains)
        #expect(outcome.domains.filter { $0.name.ascii.contains("xn--") }.count == fixture.aLabels)
        #expect(outcome.skipped?.location.line == fixture.skipped?.line)
        #expect(outcome.skipped?.kind == fixture.skipped?.kind)
        if let day = fixture.dropDay {
            let date = DropListFixtures.day(day)
            #expect(outcome.domains.allSatisfy { $0.drop == date }, "every line's drop date is \(day)")
        }
    }

    @Test func plDumpTimestampIsSkippedWithANote() throws {
        let outcome = try DropListFixtures.read(DropListFixtures.droplists.appendingPathComponent("pl-dns-deleted-raw/2023-04-18.txt").path)
        let skipped = try #require(outcome.skipped)
        #expect(skipped.text == "2023-04-18 08:23:59 MEST")
        #expect(skipped.notice.hasSuffix("2023-04-18.txt:1: skipped the leading timestamp line '2023-04-18 08:23:59 MEST': it is not a domain"))
        #expect(outcome.domains.first?.line == 3)
        // Second-level zones (com.pl, waw.pl...) are names like any other.
        #expect(outcome.domains.contains { $0.name.ascii.hasSuffix(".com.pl") })
    }

    @Test func samplesTrulyInvalidLinesAreTheIntendedOnes() throws {
        let outcome = try DropListFixtures.read(DropListFixtures.packageRoot.appendingPathComponent("samples/drops-2025-10-27.txt").path)
        #expect(outcome.invalid.map(\.text) == [
            "double..dot.org", "toolonglabelxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.com", "-badstart.com", "com",
            "under_score.net", "exa mple.com", "http://not-a-domain.com/page",
        ])
    }

    // MARK: - Shapes documented in droplists/SOURCES.md without a public sample file

    /// Internetstiftelsen's `bardate_domains[_nu].txt`: `domain<whitespace>date`, TAB or spaces
    /// (SOURCES.md: uberswe/LoopiaDomainBackorder internal/available/available.go; a script reads it with `cut -f 1`).
    @Test func seNuReleaseListTabOrSpaces() throws {
        for (name, text) in [
            ("bardate_domains.txt", "example.se\t2026-01-11\nxn--rksmrgs-5wao1o.se\t2026-01-12\n"),
            ("bardate_domains_nu.txt", "example.nu 2026-01-11\nsecond.nu    2026-01-12  \n"),
        ] {
            let file = try DropListFixtures.written(name, text)
            defer { file.cleanup() }
            let outcome = try DropListFixtures.read(file.path)
            #expect(outcome.invalid.isEmpty, "\(name): \(outcome.invalid)")
            #expect(outcome.domains.map(\.drop) == [DropListFixtures.day("2026-01-11"), DropListFixtures.day("2026-01-12")], "\(name)")
            #expect(outcome.skipped == nil)
        }
    }

    /// HEXONET's `pending_delete_domain_list.csv`: `;`, domain then drop datetime, no header (SOURCES.md:
    /// whmcs-ispapi-backorder PendingDomainListPDO.class.php; FINALIZATIONDATE like `2016-08-20 17:00:00`).
    @Test func hexonetPendingDeleteCSV() throws {
        let file = try DropListFixtures.written("pending_delete_domain_list.csv", "example.com;2016-08-20 17:00:00\nxn--bcher-kva.de;2016-08-21 09:30:00\nshop.net;2016-08-21 09:30:00\n")
        defer { file.cleanup() }
        let outcome = try DropListFixtures.read(file.path)
        #expect(outcome.invalid.isEmpty, "\(outcome.invalid)")
        #expect(outcome.domains.map(\.name.ascii) == ["example.com", "xn--bcher-kva.de", "shop.net"])
        #expect(outcome.domains.first?.drop == DropListFixtures.day("2016-08-20 17:00:00"))
    }

    /// Pool.com's `PoolDeletingDomainsList.txt`: no header, `,`, domain, date available, a third field
    /// (SOURCES.md: several PHP/Python/Ruby consumers in the code index).
    @Test func poolDeletingDomainsList() throws {
        let file = try DropListFixtures.written("PoolDeletingDomainsList.txt", "example.com,10/27/2025,1\nother.net,10/28/2025,2\n")
        defer { file.cleanup() }
        let outcome = try DropListFixtures.read(file.path)
        #expect(outcome.invalid.isEmpty, "\(outcome.invalid)")
        #expect(outcome.domains.map(\.drop) == [DropListFixtures.day("2025-10-27"), DropListFixtures.day("2025-10-28")])
    }

    @Test func aLeadingTitleIsSkippedAlsoBeforeACSVHeader() throws {
        let plain = try DropListFixtures.written("t.txt", "Pending delete list for 2025-10-27\n\nexample.com\n")
        defer { plain.cleanup() }
        var outcome = try DropListFixtures.read(plain.path)
        #expect(outcome.skipped?.kind == .title)
        #expect(outcome.invalid.isEmpty && outcome.domains.map(\.name.ascii) == ["example.com"])

        let csv = try DropListFixtures.written("t.csv", "Deleted domains\ndomain,release_date\nexample.se,2026-01-11\n")
        defer { csv.cleanup() }
        outcome = try DropListFixtures.read(csv.path)
        #expect(outcome.skipped?.kind == .title)
        #expect(outcome.invalid.isEmpty)
        #expect(outcome.domains.map(\.drop) == [DropListFixtures.day("2026-01-11")])
    }

    /// Only a line that cannot be data is skipped: a broken first name is still reported, and a CSV row that
    /// starts with a date is data.
    @Test func whatIsNotATitle() throws {
        let broken = try DropListFixtures.written("b.txt", "example.com junk\nnext.com\n")
        defer { broken.cleanup() }
        var outcome = try DropListFixtures.read(broken.path)
        #expect(outcome.skipped == nil)
        #expect(outcome.invalid.map(\.line) == [1])

        let dated = try DropListFixtures.written("d.csv", "2025-10-27,x\nexample.com,y\n")
        defer { dated.cleanup() }
        outcome = try DropListFixtures.read(dated.path)
        #expect(outcome.skipped == nil)
        #expect(outcome.invalid.map(\.line) == [1])

        let spaced = try DropListFixtures.written("s.txt", "example.com\nexa mple.com\n")
        defer { spaced.cleanup() }
        outcome = try DropListFixtures.read(spaced.path)
        #expect(outcome.invalid.map(\.reason) == ["contains a space"])
    }
}
