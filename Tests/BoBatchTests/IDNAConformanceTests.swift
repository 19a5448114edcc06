import Foundation
import Testing

@testable import BoBatch

/// Unicode's UTS #46 conformance file, `IdnaTestV2-14.0.0.txt` (the version matched to the IDNA mapping table
/// of Debian 12's libidn2 2.3.3; see `shared/conformance/idna/SOURCES.md`), every line through
/// ``DomainNameNormalizer``. Read at run time from `../shared/` beside the package, where CI puts it.
///
/// Expected: the `toAsciiN` column (non-transitional), rejected when its status has any code (bo-batch checks
/// hyphens, STD3 and lengths, so no status is ignored), then held to bo-batch's own rules (letters, digits and
/// hyphens; at least two labels; a TLD that is not all digits; at most 253 octets without the trailing dot).
/// Where libidn2 (IDNA2008) legitimately differs from UTS #46, the line is listed below under its reason; the
/// list can only shrink: a listed line that no longer differs fails, and so does a new difference.
enum IDNACorpus {
    struct Case: Sendable, CustomTestStringConvertible {
        var line: Int
        var source: String
        /// The A-label form bo-batch should produce, or nil when the name must be rejected.
        var expected: String?
        /// `toAsciiN` and its status as the file gives them, for messages.
        var toAsciiN: String
        var status: String
        /// The `toUnicode` form: what the IDNA2008 property checks look at.
        var toUnicode: String

        var testDescription: String { "line \(line): \(IDNACorpus.escaped(source))" }
    }

    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/conformance/idna/unicode/IdnaTestV2-14.0.0.txt").standardizedFileURL
    static let idna2008URL = url.deletingLastPathComponent().appendingPathComponent("Idna2008-14.0.0.txt")

    static let loaded: Result<[Case], CorpusMissing> = load()
    /// Empty when the file is missing; `theCorpusIsPresent` then fails with the reason.
    static let cases: [Case] = (try? loaded.get()) ?? []

    struct CorpusMissing: Error, CustomStringConvertible {
        var description: String
    }

    private static func load() -> Result<[Case], CorpusMissing> {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            return .failure(CorpusMissing(description: """
                \(url.path) is missing: these tests read the shared conformance material from ../shared/conformance/ \
                beside the package (as CI lays it out); put shared/ there, do not skip the tests
                """))
        }
        var cases: [Case] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Split on scalars, not Characters: a prepended concatenation mark (U+0600...) before a `;` makes one
            // grapheme cluster of the two.
            let content = raw.unicodeScalars.prefix { $0 != "#" }
            if content.allSatisfy(\.properties.isWhitespace) { continue }
            let columns = content.split(separator: ";", omittingEmptySubsequences: false).map {
                unescape(String(String.UnicodeScalarView($0)).trimmingCharacters(in: .whitespaces))
            }
            guard columns.count >= 5 else {
                return .failure(CorpusMissing(description: "\(url.path):\(index + 1) has \(columns.count) columns, not 7"))
            }
            let source = columns[0]
            let toUnicode = columns[1].isEmpty ? source : columns[1]
            let toAsciiN = columns[3].isEmpty ? toUnicode : columns[3]
            var status = columns[4].isEmpty ? columns[2] : columns[4]
            if status == "[]" { status = "" }
            let expected = status.isEmpty ? ownRules(toAsciiN) : nil
            cases.append(Case(line: index + 1, source: source, expected: expected, toAsciiN: toAsciiN, status: status, toUnicode: toUnicode))
        }
        return .success(cases)
    }

    /// `\uXXXX` and `\x{XXXX}`, as the file's header describes.
    static func unescape(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var out = String.UnicodeScalarView()
        var scalars = Array(text.unicodeScalars)[...]
        while let first = scalars.first {
            scalars.removeFirst()
            guard first == "\\", let kind = scalars.first else { out.append(first); continue }
            var hex = ""
            if kind == "u" {
                hex = String(String.UnicodeScalarView(scalars.dropFirst().prefix(4)))
                scalars = scalars.dropFirst(5)
            } else if kind == "x", scalars.dropFirst().first == "{", let close = scalars.firstIndex(of: "}") {
                hex = String(String.UnicodeScalarView(scalars[(scalars.startIndex + 2)..<close]))
                scalars = scalars[(close + 1)...]
            }
            if let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) { out.append(scalar) } else { out.append(first) }
        }
        return String(out)
    }

    /// bo-batch's own rules on top of UTS #46: what a registrable name must also be. nil: rejected.
    static func ownRules(_ ascii: String) -> String? {
        var name = ascii
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253, labels.count >= 2 else { return nil }
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                  label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D })
            else { return nil }
            if label.utf8.count >= 4, Array(label.utf8)[2...3] == [0x2D, 0x2D], !label.hasPrefix("xn") { return nil }
        }
        if labels.last!.allSatisfy(\.isNumber) { return nil }
        return name
    }

    static func escaped(_ text: String) -> String {
        text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16, uppercase: true))}" }.joined()
    }

    // MARK: - IDNA2008 derived properties (RFC 5892), to tell a legitimate IDNA2008 refusal from a bug

    static let idna2008: [(range: ClosedRange<UInt32>, property: String)] = {
        guard let text = try? String(contentsOf: idna2008URL, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.prefix { $0 != "#" }.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2 else { return nil }
            let bounds = fields[0].split(separator: ".").compactMap { UInt32($0, radix: 16) }
            guard let low = bounds.first, let high = bounds.last else { return nil }
            return (low...high, fields[1])
        }
    }()

    static func idna2008Property(_ scalar: Unicode.Scalar) -> String {
        idna2008.first { $0.range.contains(scalar.value) }?.property ?? "UNASSIGNED"
    }
}

/// Why a line's outcome differs from UTS #46, by class. Each class has a rule that must hold for every line
/// listed under it, so a line cannot be filed under a wrong reason.
enum IDNADifference: String, CaseIterable, Sendable {
    /// libidn2 rejects, UTS #46 accepts.
    case idna2008Disallowed
    /// libidn2 accepts, UTS #46 rejects for the Bidi rule only.
    case bidiRule

    var reason: String {
        switch self {
        case .idna2008Disallowed:
            "IDNA2008 (RFC 5892, which libidn2 implements) DISALLOWS a code point of the name that UTS #46 keeps valid: symbols, "
                + "punctuation and digits of other scripts (No, So, Sm...), checked against Idna2008-14.0.0.txt; a registry "
                + "runs IDNA2008 and would refuse the name too"
        case .bidiRule:
            "libidn2 2.3.3 applies the RFC 5893 Bidi rule only in part: label by label, to labels holding right-to-left "
                + "characters (so not to the other labels of a name that has one: B1 on '0à.א', B6 on 'àˇ.א'), and without "
                + "rule 4 (European and Arabic-Indic digits mixed in one label: B4 on 'à.א0٠'). Not an IDNA2008 difference "
                + "but a gap of libidn2 that bo-batch does not fill: Swift exposes no Bidi_Class and Debian ships no "
                + "libunistring headers; the registry checks the Bidi rule when the name is registered, so such a name "
                + "costs one refused backorder, nothing more"
        }
    }

    /// The rule a listed line must meet to be filed here.
    func holds(for test: IDNACorpus.Case, actual: Result<String, DomainNameError>) -> Bool {
        switch self {
        case .idna2008Disallowed:
            guard test.expected != nil, case .failure(let error) = actual else { return false }
            return error.reason.contains("disallowed")
                && test.toUnicode.unicodeScalars.contains { IDNACorpus.idna2008Property($0) == "DISALLOWED" }
        case .bidiRule:
            guard test.expected == nil, case .success = actual else { return false }
            let codes = test.status.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }
            return !codes.isEmpty && codes.allSatisfy { $0.hasPrefix("B") } && IDNACorpus.ownRules(test.toAsciiN) != nil
        }
    }

    /// Line numbers in IdnaTestV2-14.0.0.txt, per class. Regenerate with BO_BATCH_PRINT_IDNA_DIFFERENCES=1.
    static let listed: [IDNADifference: [Int]] = [
        .idna2008Disallowed: [
            829, 830, 831, 832, 833, 1241, 1243, 1246, 1247, 1250, 1251, 1253, 1255, 1492, 1493, 1494, 1495, 1496, 1497,
            1498, 1499, 1500, 1501, 1502, 1503, 1504, 1505, 1915, 1916, 1917, 1920, 3096, 3097, 4001, 4002, 4289, 4290,
            4444, 4445, 4446, 4447, 4448, 5429, 5430,
        ],
        .bidiRule: [
            110, 111, 112, 113, 114, 120, 121, 122, 123, 124, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 439, 440,
            441, 442, 536, 537, 538, 539, 540, 541, 2694, 2695, 2696, 2697, 4632, 4633, 4634,
        ],
    ]

    static let byLine: [Int: IDNADifference] = {
        var out: [Int: IDNADifference] = [:]
        for (kind, lines) in listed { for line in lines { out[line] = kind } }
        return out
    }()

    static var count: Int { listed.values.reduce(0) { $0 + $1.count } }
}

@Suite struct IDNAConformanceTests {
    static func normalize(_ text: String) -> Result<String, DomainNameError> {
        do throws(DomainNameError) { return .success(try DomainNameNormalizer.normalize(text)) } catch { return .failure(error) }
    }

    static func differs(_ test: IDNACorpus.Case, _ actual: Result<String, DomainNameError>) -> Bool {
        switch actual {
        case .success(let ascii): ascii != test.expected
        case .failure: test.expected != nil
        }
    }

    @Test func theCorpusIsPresentAndTheListIsConsistent() throws {
        let cases = try IDNACorpus.loaded.get()
        #expect(cases.count == 6235, "IdnaTestV2-14.0.0.txt has 6,235 test lines")
        #expect(!IDNACorpus.idna2008.isEmpty, "\(IDNACorpus.idna2008URL.path) is missing or unreadable")
        let lines = Set(cases.map(\.line))
        for (line, _) in IDNADifference.byLine { #expect(lines.contains(line), "listed line \(line) is not a test line") }
        #expect(IDNADifference.byLine.count == IDNADifference.count, "a line is listed under two classes")
        let perClass = IDNADifference.allCases.map { "\($0.rawValue) \(IDNADifference.listed[$0]?.count ?? 0)" }.joined(separator: ", ")
        print("IDNA conformance: \(cases.count) lines of IdnaTestV2-14.0.0.txt; \(IDNADifference.count) listed differences of libidn2 (IDNA2008) from UTS #46 (\(perClass))")

        if ProcessInfo.processInfo.environment["BO_BATCH_PRINT_IDNA_DIFFERENCES"] != nil {
            var found: [IDNADifference: [Int]] = [:]
            var unexplained: [String] = []
            for test in cases {
                let actual = Self.normalize(test.source)
                guard Self.differs(test, actual) else { continue }
                if let kind = IDNADifference.allCases.first(where: { $0.holds(for: test, actual: actual) }) {
                    found[kind, default: []].append(test.line)
                } else {
                    unexplained.append("\(test.testDescription) expected \(test.expected ?? "rejection (\(test.status))") got \(actual)")
                }
            }
            for kind in IDNADifference.allCases {
                print("        .\(kind.rawValue): [\((found[kind] ?? []).map(String.init).joined(separator: ", "))],")
            }
            for line in unexplained { print("UNEXPLAINED \(line)") }
        }
    }

    @Test("IdnaTestV2-14.0.0.txt line through the normalizer", arguments: IDNACorpus.cases)
    func line(_ test: IDNACorpus.Case) {
        let actual = Self.normalize(test.source)
        let listed = IDNADifference.byLine[test.line]
        let shown = "expected \(test.expected ?? "a rejection (toAsciiN status \(test.status))"), got \(actual)"
        guard Self.differs(test, actual) else {
            #expect(listed == nil, "listed as a difference (\(listed?.rawValue ?? "")) but now conforms: remove line \(test.line) from the list; \(shown)")
            return
        }
        guard let listed else {
            Issue.record("differs from UTS #46 and is not listed: fix it, or list it under its reason if libidn2 (IDNA2008) is right; \(shown)")
            return
        }
        #expect(listed.holds(for: test, actual: actual), "listed as \(listed.rawValue), but that reason does not hold: \(shown)")
    }
}

/// The bugs the conformance file found, and the reasons a person reads, one by one.
@Suite struct IDNAFixesTests {
    static func reason(_ text: String) -> String? {
        do throws(DomainNameError) { _ = try DomainNameNormalizer.normalize(text); return nil } catch { return error.reason }
    }

    @Test("≠ ≮ ≯ are refused as Unicode and as xn-- labels (UTS #46 STD3)", arguments: [
        "≠.com", "a≠b.com", "≮x.de", "x≯.de", "xn--1ch.com", "xn--jbf911clb.com", "shop.xn--1ch.net",
    ])
    func std3(_ text: String) throws {
        let reason = try #require(Self.reason(text), "\(text) was accepted")
        #expect(reason.contains("STD3"), "\(reason)")
    }

    @Test func aLabelsMustRoundTrip() throws {
        // `a⒈`: libidn2 decodes it, but ⒈ is mapped (to "1."), so this is not how any name encodes.
        let reason = try #require(Self.reason("xn--a-ecp.com"))
        #expect(reason.contains("xn--a-ecp"), "\(reason)")
        #expect(Self.reason("xn--zzzzzzzz.com") != nil)
        #expect(try DomainNameNormalizer.normalize("XN--BCHER-KVA.de") == "xn--bcher-kva.de")
        #expect(try DomainNameNormalizer.normalize("bücher.xn--p1ai") == "xn--bcher-kva.xn--p1ai")
    }

    @Test("letters of Unicode 13 and 14 are unassigned for this libidn2, and the reason says so", arguments: [
        "\u{08C7}a.com",       // ARABIC LETTER LAM WITH SMALL ARABIC LETTER TAH ABOVE, Unicode 13
        "a\u{0D04}.com",       // MALAYALAM LETTER VEDIC ANUSVARA, Unicode 13
        "\u{1E290}.com",       // TOTO LETTER PA, Unicode 14
    ])
    func unassigned(_ text: String) throws {
        let reason = try #require(Self.reason(text), "accepted")
        #expect(reason.contains("Unicode 12") && reason.contains("Unicode 13 and 14"), "\(reason)")
    }

    @Test func unicode12LettersStillPass() throws {
        #expect(try DomainNameNormalizer.normalize("\u{1E2C0}.com") == "xn--l14h.com")  // WANCHO LETTER AA, Unicode 12
    }
}
