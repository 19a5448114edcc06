import Foundation
import Testing

@testable import BoBatch

/// The RFC 4180 suites csv-spectrum and csv-test-data (`shared/conformance/csv/`, see its SOURCES.md), every file
/// through ``DomainListReader`` with `,` as the delimiter: each column is read in turn (`--column N`), so every
/// field's text is what bo-batch would take for a domain from that column, and it must equal the expected JSON
/// field. Read at run time from `../shared/` beside the package, where CI puts it.
///
/// bo-batch reads CSV leniently on purpose (spreadsheets and hand edits rarely follow the RFC), so a few files
/// differ; each is listed with its reason below, and the list can only shrink.
enum CSVCorpus {
    struct File: Sendable, CustomTestStringConvertible {
        var suite: String
        var name: String
        var csv: URL
        /// The expected JSON, or nil for csv-test-data's `bad-*` files, which must be rejected.
        var json: URL?
        /// csv-spectrum's JSON (and csv-test-data's `header-*`) holds objects keyed by the header row.
        var keyedByHeader: Bool

        var testDescription: String { "\(suite)/\(name)" }
    }

    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/conformance/csv").standardizedFileURL

    static let files: [File] = {
        var out: [File] = []
        let manager = FileManager.default
        for (suite, csvFolder, jsonFolder) in [("csv-spectrum", "csvs", "json"), ("csv-test-data", "csv", "json")] {
            let folder = root.appendingPathComponent(suite)
            let names = (try? manager.contentsOfDirectory(atPath: folder.appendingPathComponent(csvFolder).path)) ?? []
            for name in names.sorted() where name.hasSuffix(".csv") {
                let base = String(name.dropLast(4))
                let json = folder.appendingPathComponent(jsonFolder).appendingPathComponent(base + ".json")
                out.append(File(
                    suite: suite, name: base, csv: folder.appendingPathComponent(csvFolder).appendingPathComponent(name),
                    json: manager.fileExists(atPath: json.path) ? json : nil,
                    keyedByHeader: suite == "csv-spectrum" || base.hasPrefix("header-")))
            }
        }
        return out
    }()

    /// Files where bo-batch deliberately reads otherwise, with the reason. `theSuitesArePresent` checks the names.
    static let differences: [String: String] = [
        "csv-spectrum/location_coordinates": "the suite disagrees with itself: its JSON expects the phone number 1234567890 where its CSV has 2095257564; every other field (quotes and U+FFFD inside an unquoted field) is read as expected",
        "csv-test-data/leading-space": "fields are trimmed of spaces: a domain column padded by a spreadsheet or by hand is still the domain",
        "csv-test-data/trailing-space": "fields are trimmed of spaces: a domain column padded by a spreadsheet or by hand is still the domain",
        "csv-test-data/all-empty": "blank lines are skipped: they hold no domain, and reporting them would only add noise to invalid.tsv",
        "csv-test-data/empty-one-column": "a record whose every field is empty is skipped (spreadsheets export empty rows as ',,,')",
        "csv-test-data/bad-header-less-fields": "the header is only used to find the domain column; a row with fewer fields is read, and only a missing domain field is a problem",
        "csv-test-data/bad-header-more-fields": "the header is only used to find the domain column; a row with more fields is read",
        "csv-test-data/bad-header-no-header": "an empty file is an empty list, not an error",
        "csv-test-data/bad-header-wrong-header": "without a header that names the domain column, the first column is the domain: any header row is data",
        "csv-test-data/bad-quotes-with-unescaped-quote": "a quote inside a quoted field that does not close the line is read leniently as text (one-line records only)",
        "csv-test-data/bad-unescaped-quote": "a quote inside an unquoted field is text, as spreadsheets write it",
    ]

    enum Outcome: Equatable, CustomStringConvertible {
        case rows([[String]])
        case rejected(String)

        var description: String {
            switch self {
            case .rows(let rows): rows.map { "[" + $0.map(\.debugDescription).joined(separator: ", ") + "]" }.joined(separator: " ")
            case .rejected(let reason): "rejected: \(reason)"
            }
        }
    }

    /// Every record of `file` as bo-batch reads it, column by column.
    static func read(_ file: URL) throws -> Outcome {
        var rows: [Int: [Int: String]] = [:]
        var column = 1
        while column <= 16 {
            var any = false
            let reader = try DomainListReader(path: file.path, options: InputOptions(delimiter: UInt8(ascii: ","), column: String(column)))
            while let item = try reader.next() {
                switch item {
                case .domain(let text, let location, _):
                    rows[location.line, default: [:]][column] = text
                    any = true
                case .problem(let location, _, let reason):
                    if reason.hasPrefix("no column") {
                        rows[location.line, default: [:]] = rows[location.line, default: [:]]
                    } else if reason.hasPrefix("the domain column") {
                        rows[location.line, default: [:]][column] = ""
                        any = true
                    } else {
                        return .rejected("line \(location.line): \(reason)")
                    }
                }
            }
            if !any { break }
            column += 1
        }
        return .rows(rows.keys.sorted().map { line in
            let fields = rows[line]!
            return (1...max(1, fields.keys.max() ?? 0)).map { fields[$0] ?? "<missing>" }
        })
    }

    static func expected(_ file: File, header: [String]?) throws -> Outcome? {
        guard let url = file.json else { return nil }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        if file.keyedByHeader {
            // location_coordinates.json is one object, not an array of them.
            let records = object as? [[String: String]] ?? (object as? [String: String]).map { [$0] } ?? []
            guard let header else { return .rows([]) }
            return .rows([header] + records.map { record in header.map { record[$0] ?? "<not in the JSON>" } })
        }
        return .rows(object as? [[String]] ?? [])
    }
}

@Suite struct CSVConformanceTests {
    @Test func theSuitesArePresent() {
        #expect(CSVCorpus.files.count == 12 + 25, "csv-spectrum has 12 files, csv-test-data 25 (SOURCES.md); missing: put ../shared/conformance/csv beside the package")
        let names = Set(CSVCorpus.files.map(\.testDescription))
        for name in CSVCorpus.differences.keys { #expect(names.contains(name), "listed difference \(name) is not in the suites") }
    }

    @Test("CSV suite file through the reader", arguments: CSVCorpus.files)
    func file(_ file: CSVCorpus.File) throws {
        let actual = try CSVCorpus.read(file.csv)
        let header: [String]? = if case .rows(let rows) = actual { rows.first } else { nil }
        let listed = CSVCorpus.differences[file.testDescription]
        let conforms: Bool
        let expectedText: String
        if let expected = try CSVCorpus.expected(file, header: header) {
            conforms = actual == expected
            expectedText = expected.description
        } else {
            // A `bad-*` file: the RFC says reject it.
            if case .rejected = actual { conforms = true } else { conforms = false }
            expectedText = "a rejection"
        }
        if conforms {
            #expect(listed == nil, "listed as a difference (\(listed ?? "")) but now conforms: remove it from the list")
        } else {
            #expect(listed != nil, "expected \(expectedText), read \(actual)")
        }
    }

    /// The bug the suites found: a CR LF inside a quoted field came back as a lone CR.
    @Test func crlfInsideQuotesIsKept() throws {
        let url = CSVCorpus.root.appendingPathComponent("csv-spectrum/csvs/newlines_crlf.csv")
        guard case .rows(let rows) = try CSVCorpus.read(url) else { Issue.record("rejected"); return }
        #expect(rows.count == 4)
        #expect(rows.dropFirst(2).first?.first == "Once upon \r\na time")
    }
}

@Suite struct CRLFInQuotesTests {
    /// A quote that never closes in a CR LF file: the lines it swallowed are read again with their own numbers.
    @Test func unterminatedQuoteInACRLFFileKeepsLineNumbers() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bo-batch-crlf-\(UUID().uuidString).csv")
        try Data("a.com,1\r\n\"b.com,2\r\nc.com,3\r\nd.com,4\r\n".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let reader = try DomainListReader(path: url.path, options: InputOptions())
        var seen: [String] = []
        while let item = try reader.next() {
            switch item {
            case .domain(let text, let location, _): seen.append("\(location.line) \(text)")
            case .problem(let location, let text, _): seen.append("\(location.line) problem \(text)")
            }
        }
        #expect(seen == ["1 a.com", "2 problem \"b.com,2", "3 c.com", "4 d.com"])
    }
}
