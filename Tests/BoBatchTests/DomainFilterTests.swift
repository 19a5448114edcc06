import Foundation
import Testing
@testable import BoBatch

/// Each filter on its own and together, on names as the normalizer makes them; then ingest through a real
/// ledger: what is filtered is recorded with its reason, never enters the run, and `filtered.tsv` is rebuilt.
@Suite struct DomainFilterTests {
    func filter(_ configure: (inout FilterSettings) -> Void) throws -> DomainFilter {
        var s = FilterSettings()
        configure(&s)
        return try DomainFilter(s)
    }

    /// The reason for the name (normalized first, as ingest does), or nil when it is kept.
    func reason(_ f: DomainFilter, _ text: String, drop: String? = nil) throws -> FilterReason? {
        f.reason(for: try DomainName(normalizing: text), attributes: DomainAttributes(dropTime: drop.flatMap { DropDateParser.parse($0) }))
    }

    func error(_ configure: (inout FilterSettings) -> Void) -> String? {
        do {
            _ = try filter(configure)
            return nil
        } catch {
            return (error as? FilterError)?.message ?? "\(error)"
        }
    }

    @Test func noFilterKeepsEverythingAndSaysItIsEmpty() throws {
        #expect(FilterSettings().isEmpty)
        let f = try filter { _ in }
        #expect(try reason(f, "xn--mnchen-3ya.de") == nil)
        #expect(try reason(f, "a-1.com") == nil)
    }

    @Test func tldKeepsOnlyNamesUnderTheSuffixesOnWholeLabels() throws {
        let f = try filter { $0.tlds = ["com.pl, .de", "io"] }
        #expect(try reason(f, "example.com.pl") == nil)
        #expect(try reason(f, "example.de") == nil)
        #expect(try reason(f, "example.io") == nil)
        #expect(try reason(f, "example.pl") == .tld)
        // Whole labels: "xcom.pl" does not end in the label "com" then "pl"; "ode" is not "de".
        #expect(try reason(f, "example.xcom.pl") == .tld)
        #expect(try reason(f, "example.code") == .tld)
        #expect(try reason(f, "example.com") == .tld)
    }

    @Test func tldAcceptsUnicodeSuffixesNormalizedLikeNames() throws {
        let f = try filter { $0.tlds = ["РФ", "com.pl"] }
        #expect(try reason(f, "пример.рф") == nil)
        #expect(try reason(f, "xn--e1afmkfd.xn--p1ai") == nil)
        #expect(try reason(f, "example.com") == .tld)
    }

    @Test func excludeTLDDropsNamesUnderTheSuffixes() throws {
        let f = try filter { $0.excludeTLDs = ["com.pl", "xyz"] }
        #expect(try reason(f, "example.com.pl") == .excludeTLD)
        #expect(try reason(f, "example.xyz") == .excludeTLD)
        #expect(try reason(f, "example.pl") == nil)
        #expect(try reason(f, "example.net.pl") == nil)
    }

    @Test func aTLDThatIsNotOneIsAnError() {
        #expect(error { $0.tlds = ["co m"] }?.contains("--tld 'co m'") == true)
        #expect(error { $0.excludeTLDs = ["a..b"] }?.hasPrefix("--exclude-tld 'a..b'") == true)
        #expect(error { $0.tlds = [" , "] } == "--tld: no TLD given")
    }

    @Test func lengthCountsTheLeftmostLabelInUnicodeCharacters() throws {
        let f = try filter {
            $0.minLength = 5
            $0.maxLength = 7
        }
        #expect(try reason(f, "abcd.com") == .minLength)
        #expect(try reason(f, "abcde.com") == nil)
        #expect(try reason(f, "abcdefg.com.pl") == nil)
        #expect(try reason(f, "abcdefgh.com") == .maxLength)
        // münchen: 7 characters, although its A-label has 14 bytes.
        #expect(try reason(f, "münchen.de") == nil)
        #expect(try reason(f, "xn--mnchen-3ya.de") == nil)
        // пример: 6; рф (2) as the leftmost label is too short; 日本語 is 3.
        #expect(try reason(f, "пример.рф") == nil)
        #expect(try reason(f, "рф.com") == .minLength)
        #expect(try reason(f, "日本語.jp") == .minLength)
        // 8 characters, an A-label of 15 bytes.
        #expect(try reason(f, "müncheny.de") == .maxLength)
    }

    @Test func punycodeLengthMatchesTheDecodedLabelAcrossScripts() throws {
        // Labels the normalizer keeps as they are (lowercase, already NFC), so their length is known here.
        for label in ["münchen", "пример", "日本語", "ü", "bücher-und-bücher", "ελληνικά", "straße", "a1ü2ß3", "ab\u{0301}c"] {
            let ascii = try DomainName(normalizing: label + ".com").ascii
            let aLabel = try #require(ascii.split(separator: ".").first).dropFirst(4)
            let count = Array(aLabel.utf8).withUnsafeBufferPointer { DomainFilter.punycodeLength($0) }
            #expect(count == label.precomposedStringWithCanonicalMapping.unicodeScalars.count, "\(label) → \(ascii)")
        }
        #expect(Array("abc-".utf8).withUnsafeBufferPointer { DomainFilter.punycodeLength($0) } == 3)
        #expect(Array("a!".utf8).withUnsafeBufferPointer { DomainFilter.punycodeLength($0) } == nil)
    }

    @Test func lengthBoundsAreChecked() {
        #expect(error { $0.minLength = 0 }?.contains("--min-length 0") == true)
        #expect(error { $0.maxLength = 64 }?.contains("--max-length 64") == true)
        #expect(error {
            $0.minLength = 8
            $0.maxLength = 3
        } == "--min-length 8 is more than --max-length 3: no name could pass")
    }

    @Test func noHyphensAndNoDigitsLookAtTheLeftmostLabelsCharacters() throws {
        let f = try filter {
            $0.noHyphens = true
            $0.noDigits = true
        }
        #expect(try reason(f, "a-b.com") == .hyphens)
        #expect(try reason(f, "ab1.com") == .digits)
        #expect(try reason(f, "ab.co-op.com") == nil)
        // An A-label's prefix, delimiter and encoded digits are not characters of the name...
        #expect(try reason(f, "xn--mnchen-3ya.de") == nil)
        #expect(try reason(f, "пример.рф") == nil)
        // ...its own ASCII characters are.
        #expect(try reason(f, "mün-chen.de") == .hyphens)
        #expect(try reason(f, "mün2chen.de") == .digits)
    }

    @Test func noIDNDropsAnyALabelAnywhere() throws {
        let f = try filter { $0.noIDN = true }
        #expect(try reason(f, "münchen.de") == .idn)
        #expect(try reason(f, "example.рф") == .idn)
        #expect(try reason(f, "example.com") == nil)
        #expect(try reason(f, "abxn--c.com") == nil)
    }

    @Test func matchAndExcludeSearchTheASCIIName() throws {
        let f = try filter {
            $0.match = ["^[a-z]{3,6}\\.", "^xn--"]
            $0.exclude = ["shop", "\\.xyz$"]
        }
        #expect(try reason(f, "abcd.com") == nil)
        #expect(try reason(f, "münchen.de") == nil)  // xn--mnchen-3ya.de
        #expect(try reason(f, "abcdefgh.com") == .match)
        #expect(try reason(f, "ab1.com") == .match)
        #expect(try reason(f, "ishop.com") == .exclude)
        #expect(try reason(f, "abc.xyz") == .exclude)
    }

    @Test func aBadPatternIsAnErrorNamingTheOptionAndTheProblem() {
        #expect(error { $0.match = ["(abc"] } == "--match '(abc': not a valid regular expression: expected ')'")
        #expect(error { $0.exclude = ["a{2,1}"] }?.hasPrefix("--exclude 'a{2,1}': not a valid regular expression: ") == true)
        #expect(error { $0.exclude = [""] } == "--exclude: empty pattern")
    }

    @Test func excludeFileIsReadLikeInputAndNormalized() throws {
        let dir = TestPaths.temporaryDirectory("filter-block")
        let path = (dir as NSString).appendingPathComponent("block.csv")
        try Data("domain,note\nBAD.com.,x\nмюнхен.de,y\nnot a domain,z\n".utf8).write(to: URL(fileURLWithPath: path))
        let f = try filter { $0.excludeFiles = [path] }
        #expect(f.blocklistCount == 2)
        #expect(f.notes.count == 1 && f.notes[0].contains("1 line(s) are not domains"))
        #expect(try reason(f, "bad.com") == .excludeFile)
        #expect(try reason(f, try DomainName(normalizing: "мюнхен.de").ascii) == .excludeFile)
        #expect(try reason(f, "мюнхен.de") == .excludeFile)
        #expect(try reason(f, "good.com") == nil)
        #expect(error { $0.excludeFiles = [dir + "/missing.txt"] }?.hasPrefix("--exclude-file: ") == true)
    }

    @Test func dropDatesIncludeTheDaysNamedAndNamesWithoutOneAreDropped() throws {
        let f = try filter {
            $0.dropAfter = "2025-10-27"
            $0.dropBefore = "2025-10-28"
        }
        #expect(try reason(f, "a.com", drop: "2025-10-26T23:59:59Z") == .dropAfter)
        #expect(try reason(f, "a.com", drop: "2025-10-27") == nil)
        #expect(try reason(f, "a.com", drop: "2025-10-28T23:59:59Z") == nil)
        #expect(try reason(f, "a.com", drop: "2025-10-29") == .dropBefore)
        #expect(try reason(f, "a.com") == .noDropDate)
        let instant = try filter { $0.dropBefore = "2025-10-28T12:00:00Z" }
        #expect(try reason(instant, "a.com", drop: "2025-10-28T12:00:00Z") == nil)
        #expect(try reason(instant, "a.com", drop: "2025-10-28T12:00:01Z") == .dropBefore)
        #expect(error { $0.dropAfter = "27/10/2025" }?.hasPrefix("--drop-after '27/10/2025': not a date") == true)
        #expect(error {
            $0.dropAfter = "2025-10-29"
            $0.dropBefore = "2025-10-28"
        }?.contains("no name could pass") == true)
    }

    @Test func theCheapestApplicableReasonIsGiven() throws {
        let f = try filter {
            $0.noIDN = true
            $0.tlds = ["com"]
            $0.noDigits = true
            $0.match = ["^zzz"]
        }
        #expect(try reason(f, "münchen.de") == .idn)
        #expect(try reason(f, "a1.de") == .tld)
        #expect(try reason(f, "a1.com") == .digits)
        #expect(try reason(f, "abc.com") == .match)
        #expect(try reason(f, "zzz.com") == nil)
    }

    // MARK: ingest

    func runIngest(_ lines: [String], filter settings: FilterSettings, ledger: Ledger, input: String, out: String) throws -> RunSummary {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: input))
        var plan = SubmitPlan(
            run: "filters", inputs: [input], inputOptions: InputOptions(), resultsDirectory: out, rememberDays: 30,
            lanes: [LaneSetup(provider: FakeProvider(maxBatch: 100), settings: LaneSettings(pacing: Pacing(concurrency: 1, requestsPerMinute: 6000), maxAttempts: 5))])
        plan.filter = settings.isEmpty ? nil : try DomainFilter(settings)
        let job = try SubmitJob(plan: plan, ledger: ledger, clock: TestClock())
        let summary = try job.ingest { _ in }
        #expect(summary.linesRead == lines.count)
        return try job.finish(input: summary, reports: [], dryRun: true)
    }

    @Test func filteredLinesAreRecordedNeverEnterTheRunAndAreNotDuplicates() throws {
        let dir = TestPaths.temporaryDirectory("filter-ingest")
        let input = (dir as NSString).appendingPathComponent("list.txt")
        let out = (dir as NSString).appendingPathComponent("out")
        let ledger = try Ledger(directory: (dir as NSString).appendingPathComponent("state"))
        var settings = FilterSettings()
        settings.noDigits = true
        let lines = ["keep.com", "a1.com", "keep.com", "A1.com.", "other.com", "not a domain"]
        let summary = try runIngest(lines, filter: settings, ledger: ledger, input: input, out: out)
        #expect(summary.input.domains == 2)
        #expect(summary.input.duplicates == 1)
        #expect(summary.input.filtered == 2)
        #expect(summary.input.filteredByReason == ["no-digits": 2])
        #expect(summary.input.filteredInRun == 0)
        #expect(summary.input.invalid == 1)
        let tsv = try String(contentsOfFile: (out as NSString).appendingPathComponent("filtered.tsv"), encoding: .utf8)
        #expect(tsv == "file\tline\tdomain\treason\n\(input)\t2\ta1.com\tno-digits\n\(input)\t4\ta1.com\tno-digits\n")
        #expect(try ledger.domainCount(run: "filters") == 2)

        // A rerun without the filter: the lines are now read into the run, and filtered.tsv no longer lists them.
        let again = try runIngest(lines, filter: FilterSettings(), ledger: ledger, input: input, out: out)
        #expect(again.input.filtered == 0)
        #expect(again.input.domains == 3)
        #expect(try String(contentsOfFile: (out as NSString).appendingPathComponent("filtered.tsv"), encoding: .utf8) == "file\tline\tdomain\treason\n")

        // With the filter again: a1.com is listed, and counted as in the run all the same (nothing recorded is dropped).
        let third = try runIngest(lines, filter: settings, ledger: ledger, input: input, out: out)
        #expect(third.input.filtered == 2)
        #expect(third.input.filteredInRun == 1)
        #expect(third.input.domains == 3)
    }

    @Test func aRunWithoutFiltersWritesNoFilteredFile() throws {
        let dir = TestPaths.temporaryDirectory("filter-none")
        let out = (dir as NSString).appendingPathComponent("out")
        let ledger = try Ledger(directory: (dir as NSString).appendingPathComponent("state"))
        _ = try runIngest(["a.com"], filter: FilterSettings(), ledger: ledger, input: (dir as NSString).appendingPathComponent("l.txt"), out: out)
        #expect(!FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("filtered.tsv")))
    }
}
