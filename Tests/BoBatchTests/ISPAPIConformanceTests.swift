import BoBatchHTTP
import Foundation
import Testing

@testable import BoBatch

/// Real 1API (HEXONET ISPAPI) answers written by others: the string literals of the SDKs' own tests and the
/// example answers of the official command pages (`shared/conformance/ispapi/extracted-raw-responses.json`, see
/// its SOURCES.md). Read at run time from `../shared/` beside the package, where CI puts it.
enum ISPAPICorpus {
    struct Sample: Sendable, CustomTestStringConvertible {
        /// "sdk#12" (`sdk_test_literals` id) or "doc#4" (`api_doc_examples` index).
        var name: String
        var raw: String
        /// Where it comes from, for failure messages.
        var source: String
        /// The file's own flags (`sdk_test_literals` only).
        var endsWithEOFFlag: Bool?
        var completeLiteralFlag: Bool?

        var testDescription: String { "\(name) (\(source))" }
    }

    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/conformance/ispapi/extracted-raw-responses.json").standardizedFileURL

    /// Samples that are not whole answers with a CODE, each with the reason. Named one by one, so that a change
    /// in the file shows up as a failure instead of a silently skipped sample.
    static let exceptions: [String: String] = [
        // Complete literals, ending with EOF, that carry no CODE on purpose: SDK fixtures, not server answers.
        "sdk#1": "an empty hash serialized by the SDKs (\"[RESPONSE]\\r\\nEOF\\r\\n\"), no CODE: the SDKs turn it into 423 \"Invalid API response\"",
        "sdk#27": "python-sdk test_responsetemplate.py: a template without CODE, to test the 423 \"Invalid API response\" replacement",
        "sdk#67": "python-sdk test_responsetemplate.py (spaced variant): a template without CODE, same purpose",
        // Prefixes: the literal was concatenated with more text in its test source (complete_literal = false).
        "sdk#30": "go-sdk responsetranslator_test.go: only a prefix of a literal concatenated in the source, so no EOF",
        "sdk#54": "go-sdk responsetranslator_test.go: only a prefix of a literal concatenated in the source, so no EOF",
        "sdk#60": "java-sdk APIClientTest.java: only a prefix of a literal concatenated in the source, so no EOF",
    ]
    static let withoutCode: Set<String> = ["sdk#1", "sdk#27", "sdk#67"]
    static let prefixes: Set<String> = ["sdk#30", "sdk#54", "sdk#60"]

    static let loaded: Result<[Sample], CorpusMissing> = load()
    /// Empty when the file is missing; `theCorpusIsPresentAndAsExpected` then fails with the reason.
    static let samples: [Sample] = (try? loaded.get()) ?? []
    static let answers: [Sample] = samples.filter { exceptions[$0.name] == nil }

    struct CorpusMissing: Error, CustomStringConvertible {
        var description: String
    }

    private static func load() -> Result<[Sample], CorpusMissing> {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return .failure(CorpusMissing(description: """
                \(url.path) is missing: these tests read the shared conformance material from ../shared/conformance/ \
                beside the package (as CI lays it out); put shared/ there, do not skip the tests
                """))
        }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let literals = root["sdk_test_literals"] as? [[String: Any]],
            let examples = root["api_doc_examples"] as? [[String: Any]]
        else {
            return .failure(CorpusMissing(description: "\(url.path) is not the expected JSON (sdk_test_literals, api_doc_examples)"))
        }
        var samples: [Sample] = []
        for literal in literals {
            guard let id = literal["id"] as? Int, let raw = literal["raw"] as? String else {
                return .failure(CorpusMissing(description: "\(url.path): a literal without id or raw"))
            }
            let first = (literal["sources"] as? [[String: Any]])?.first
            let source = [first?["repo"], first?["path"]].compactMap { $0 as? String }.joined(separator: " ")
            samples.append(Sample(
                name: "sdk#\(id)", raw: raw, source: source,
                endsWithEOFFlag: literal["ends_with_EOF"] as? Bool, completeLiteralFlag: literal["complete_literal"] as? Bool))
        }
        for (index, example) in examples.enumerated() {
            guard let raw = example["response"] as? String else {
                return .failure(CorpusMissing(description: "\(url.path): api_doc_examples[\(index)] has no response"))
            }
            samples.append(Sample(name: "doc#\(index)", raw: raw, source: example["path"] as? String ?? "", endsWithEOFFlag: nil, completeLiteralFlag: nil))
        }
        return .success(samples)
    }

    /// Where the final line starts when it is `EOF` (nil otherwise): everything before it is the answer proper.
    static func eofLineStart(_ raw: String) -> String.Index? {
        var lines: [Range<String.Index>] = []
        var start = raw.startIndex
        for index in raw.indices where raw[index].isNewline {
            lines.append(start..<index)
            start = raw.index(after: index)
        }
        lines.append(start..<raw.endIndex)
        return lines.last { !raw[$0].trimmingCharacters(in: .whitespaces).isEmpty }
            .flatMap { raw[$0].trimmingCharacters(in: .whitespaces).uppercased() == "EOF" ? $0.lowerBound : nil }
    }

    /// Several ways to lose the end of `raw` (which ends with an EOF line): each must be reported incomplete.
    static func cuts(of raw: String) -> [(label: String, text: String)] {
        guard let eof = eofLineStart(raw) else { return [] }
        let body = raw[..<eof]  // everything up to and including the line break before EOF
        var out: [(String, String)] = [
            ("just before EOF", String(body)),
            ("inside EOF (E)", String(body) + "E"),
            ("inside EOF (EO)", String(body) + "EO"),
        ]
        // Without the line break that ends the last line before EOF.
        let trimmedBreak = body.reversed().drop(while: \.isNewline)
        let lastLineEnd = body.index(body.startIndex, offsetBy: trimmedBreak.count)
        out.append(("end of the last line before EOF", String(body[..<lastLineEnd])))
        // Mid-way through the last value before EOF (the application id of an AddDomainApplication answer, say).
        let lastLineStart = body[..<lastLineEnd].lastIndex(where: \.isNewline).map { body.index(after: $0) } ?? body.startIndex
        let lastLine = body[lastLineStart..<lastLineEnd]
        if let equals = lastLine.firstIndex(of: "=") {
            let value = lastLine[lastLine.index(after: equals)...]
            if value.count >= 2 {
                out.append(("mid-way through the last value", String(body[..<value.index(value.startIndex, offsetBy: value.count / 2)])))
            }
        }
        // Half the answer, as the sandbox's "malformed after processing" fault cuts it.
        out.append(("half the answer", String(raw.prefix(raw.count / 2))))
        return out
    }
}

@Suite struct ISPAPIConformanceTests {
    let domain = DomainName(validatedASCII: "example.com")

    @Test func theCorpusIsPresentAndAsExpected() throws {
        let samples = try ISPAPICorpus.loaded.get()
        #expect(samples.count == 78, "68 SDK literals and 10 documented examples (SOURCES.md)")
        let names = Set(samples.map(\.name))
        for name in ISPAPICorpus.exceptions.keys { #expect(names.contains(name), "listed exception \(name) is not in the corpus") }
        #expect(ISPAPICorpus.withoutCode.union(ISPAPICorpus.prefixes) == Set(ISPAPICorpus.exceptions.keys))
        // The file's own flags agree with the list: exactly the prefixes are incomplete literals without EOF.
        for sample in samples where sample.name.hasPrefix("sdk#") {
            let prefix = ISPAPICorpus.prefixes.contains(sample.name)
            #expect(sample.completeLiteralFlag == !prefix, "\(sample.testDescription)")
            #expect(sample.endsWithEOFFlag == !prefix, "\(sample.testDescription)")
        }
        #expect(ISPAPICorpus.answers.count == 72)
    }

    @Test(arguments: ISPAPICorpus.answers)
    func everyCompleteAnswerEndsWithEOFAndParsesCompleteWithACode(sample: ISPAPICorpus.Sample) throws {
        #expect(ISPAPICorpus.eofLineStart(sample.raw) != nil, "the last line is EOF")
        let answer = try ISPAPIResponse(parsing: sample.raw)
        #expect(answer.reachedEOF)
        #expect(answer.fields["CODE"] != nil)
        #expect((200..<600).contains(answer.code))
    }

    @Test(arguments: ISPAPICorpus.answers)
    func everyAnswerCutBeforeEOFIsIncomplete(sample: ISPAPICorpus.Sample) {
        let cuts = ISPAPICorpus.cuts(of: sample.raw)
        #expect(cuts.count >= 5)
        for (label, text) in cuts {
            if let answer = try? ISPAPIResponse(parsing: text) {
                #expect(!answer.reachedEOF, "cut \(label): \(text.debugDescription)")
            }
            let response = HTTPResponse(status: 200, body: Array(text.utf8))
            let created = OneAPIClassifier.submitResult(domain: domain, outcome: .success(response), now: Date())
            guard case .maybeProcessed = created else {
                Issue.record("cut \(label): a create must be maybeProcessed, got \(created)")
                continue
            }
            let looked = OneAPIClassifier.lookupResult(asked: [domain], limit: 100, outcome: .success(response), now: Date())
            guard case .unavailable = looked else {
                Issue.record("cut \(label): a lookup must be unavailable, got \(looked)")
                continue
            }
            let status = OneAPIClassifier.applicationStatus(application: "1", outcome: .success(response), secrets: [], now: Date())
            guard case .failure(let error) = status, error.kind == .invalidAnswer else {
                Issue.record("cut \(label): a status must be an invalid answer, got \(status)")
                continue
            }
        }
    }

    /// The listed exceptions are still read safely: no CODE is never a verdict, a prefix is never complete.
    @Test(arguments: ISPAPICorpus.samples.filter { ISPAPICorpus.exceptions[$0.name] != nil })
    func theListedExceptionsAreNeverAVerdict(sample: ISPAPICorpus.Sample) {
        if ISPAPICorpus.withoutCode.contains(sample.name) {
            #expect(ISPAPICorpus.eofLineStart(sample.raw) != nil)
            #expect(throws: ISPAPIResponse.ParseError.missingCode) { try ISPAPIResponse(parsing: sample.raw) }
        } else {
            #expect(ISPAPICorpus.eofLineStart(sample.raw) == nil)
            if let answer = try? ISPAPIResponse(parsing: sample.raw) { #expect(!answer.reachedEOF) }
        }
        let response = HTTPResponse(status: 200, body: Array(sample.raw.utf8))
        guard case .maybeProcessed = OneAPIClassifier.submitResult(domain: domain, outcome: .success(response), now: Date()) else {
            Issue.record("expected maybeProcessed")
            return
        }
    }
}
