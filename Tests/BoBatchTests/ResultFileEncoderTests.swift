@testable import BoBatch
import Foundation
import Testing

/// The hand-written result-file encoder against the `JSONEncoder` it replaced: the same bytes for every row,
/// hostile text included, and text that `JSONSerialization` reads back unchanged.
@Suite struct ResultFileEncoderTests {
    /// What ResultWriter encoded before, kept here as the oracle.
    struct OldOutcome: Codable {
        var state: String
        var message: String
        var attempts: Int
        var updated: String
        var code: String?
        var reference: String?
        var fate: OldFate?
    }

    /// A pair's fate (issue 11), as JSONEncoder would write it.
    struct OldFate: Codable {
        var state: String
        var detail: String
        var price: String?
        var currency: String?
        var frozen: String?
        var endsAt: String?
        var changedAt: String
        var checkedAt: String

        enum CodingKeys: String, CodingKey {
            case state, detail, price, currency, frozen, endsAt = "ends_at", changedAt = "changed_at", checkedAt = "checked_at"
        }
    }

    struct OldDomainFile: Codable {
        var domain: String
        var input: String
        var source: String
        var run: String
        var dropTime: String?
        var email: String?
        var outcomes: [String: OldOutcome]

        enum CodingKeys: String, CodingKey {
            case domain, input, source, run, dropTime = "drop_time", email, outcomes
        }
    }

    static func oldTimestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
    }

    static func oldBytes(_ result: DomainResultRow, run: String) throws -> [UInt8] {
        var outcomes: [String: OldOutcome] = [:]
        for pair in result.pairs {
            outcomes[pair.provider] = OldOutcome(
                state: pair.state.reported, message: pair.message, attempts: pair.attempts, updated: oldTimestamp(pair.updated),
                code: pair.code, reference: pair.reference,
                fate: pair.fate.map {
                    OldFate(
                        state: $0.report.fate.rawValue, detail: $0.report.detail, price: $0.report.price, currency: $0.report.currency,
                        frozen: $0.report.frozen, endsAt: $0.report.endsAt.map(oldTimestamp), changedAt: oldTimestamp($0.changedAt),
                        checkedAt: oldTimestamp($0.checkedAt))
                })
        }
        let file = OldDomainFile(
            domain: result.domain, input: result.input, source: result.source, run: run, dropTime: result.dropTime.map(oldTimestamp),
            email: result.email, outcomes: outcomes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(file))
    }

    static func newBytes(_ result: DomainResultRow, run: String) -> [UInt8] {
        var encoder = ResultFileEncoder()
        encoder.encode(result, run: run)
        return encoder.bytes
    }

    /// Every control character, the JSON specials, `/`, DEL, C1 controls, non-ASCII of every UTF-8 length,
    /// the line and paragraph separators (valid in JSON, not in JavaScript), a lone combining mark, a BOM.
    static let hostile: [String] = [
        "",
        "plain text",
        String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }),
        "quote \" backslash \\ slash / both \\\" end\\",
        "\"\"\"\\\\\\",
        "\u{7f}\u{80}\u{9f}\u{a0}\u{ad}",
        "Bücher.de ÿ Ω € 中文 😀 𝄞",
        "\u{2028}\u{2029}\u{feff}\u{301}",
        "tab\there\nnew line\r\ncrlf\u{0}nul\u{8}bs\u{c}ff\u{1b}[31mred",
        "<script>alert('x')</script>&amp;",
        "{\"json\": [1, 2, \"in\", \"a\", \"string\"]}",
        "\\u0000 \\n written out",
        String(repeating: "long ", count: 2_000),
    ]

    static let times: [Date] = [
        Date(timeIntervalSince1970: 0),
        Date(timeIntervalSince1970: 1_760_000_000),
        Date(timeIntervalSince1970: 1_760_000_000.999),
        Date(timeIntervalSince1970: 1_760_000_059.5),
        Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
        Date(timeIntervalSince1970: 4_107_542_399.75),  // 2100-02-28T23:59:59
        Date(timeIntervalSince1970: 4_107_542_400),  // 2100-03-01
        Date(timeIntervalSince1970: 1_735_689_599),  // 2024-12-31T23:59:59
        Date(timeIntervalSince1970: 253_402_300_799),  // 9999-12-31T23:59:59
    ]

    func pair(_ provider: String, _ state: PairState, attempts: Int = 1, code: String? = nil, message: String = "", reference: String? = nil, updated: Date)
        -> PairResultRow
    {
        PairResultRow(provider: provider, state: state, attempts: attempts, code: code, message: message, reference: reference, updated: updated)
    }

    func row(domain: String = "example.com", input: String = "Example.com", source: String = "list.txt:1", drop: Date? = nil, email: String? = nil,
             pairs: [PairResultRow]) -> DomainResultRow
    {
        DomainResultRow(domain: domain, input: input, source: source, dropTime: drop, email: email, version: 2, pairs: pairs)
    }

    /// The rows the tests encode: every hostile string in every string field, every optional present and
    /// absent, no pair to five, every state, odd numbers.
    var rows: [DomainResultRow] {
        var out: [DomainResultRow] = []
        let t = Self.times
        for (i, text) in Self.hostile.enumerated() {
            let when = t[i % t.count]
            out.append(row(domain: "x\(i).com", input: text, source: text, drop: when, email: text, pairs: [
                pair("dynadot", .accepted, code: text, message: text, reference: text, updated: when)
            ]))
            out.append(row(input: "a", source: "b", pairs: [pair(text.isEmpty ? "p" : text, .rejected, message: "m", updated: when)]))
            out.append(row(domain: text, input: text, source: "s", pairs: []))
        }
        for (i, state) in PairState.allCases.enumerated() {
            out.append(row(drop: i.isMultiple(of: 2) ? t[i % t.count] : nil, email: i.isMultiple(of: 3) ? "a@b.c" : nil, pairs: [
                pair("dnspod", state, attempts: 0, updated: t[i % t.count]),
                pair("dynadot", state, attempts: -3, code: "ok", updated: t[(i + 1) % t.count]),
                pair("gname", state, attempts: Int.max, reference: "G-1", updated: t[(i + 2) % t.count]),
                pair("oneapi", state, attempts: Int.min, code: "no-lookup", message: "m/n", updated: t[(i + 3) % t.count]),
                pair("yay", state, attempts: 1_234_567, code: "", message: "", reference: "", updated: t[(i + 4) % t.count]),
            ]))
        }
        // Fates: every hostile string in every field, every optional present and absent, every fate.
        for (i, text) in Self.hostile.enumerated() {
            var withFate = pair("dynadot", .accepted, code: "ok", message: text, updated: t[i % t.count])
            let fate = Fate.allCases[i % Fate.allCases.count]
            withFate.fate = FateRecord(
                report: FateReport(fate: fate, detail: text, price: i.isMultiple(of: 2) ? text : nil, currency: i.isMultiple(of: 3) ? text : nil,
                                   frozen: i.isMultiple(of: 4) ? text : nil, endsAt: i.isMultiple(of: 5) ? t[(i + 1) % t.count] : nil),
                changedAt: t[(i + 2) % t.count], checkedAt: t[(i + 3) % t.count])
            out.append(row(domain: "f\(i).com", pairs: [withFate, pair("yay", .rejected, updated: t[0])]))
        }
        // Pairs not in provider order, and one provider twice (the dictionary kept the last).
        out.append(row(pairs: [pair("yay", .failed, updated: t[1]), pair("dynadot", .accepted, updated: t[2]), pair("yay", .unknown, updated: t[3])]))
        return out
    }

    @Test func theBytesAreJSONEncodersPrettyPrintedSortedOnes() throws {
        for (i, row) in rows.enumerated() {
            let old = try Self.oldBytes(row, run: "run \(i) \"/\\")
            let new = Self.newBytes(row, run: "run \(i) \"/\\")
            #expect(new == old, "row \(i): \(String(decoding: new, as: UTF8.self).prefix(400)) != \(String(decoding: old, as: UTF8.self).prefix(400))")
        }
    }

    @Test func hostileStringsSurviveARoundTripThroughJSONSerialization() throws {
        for text in Self.hostile {
            let when = Self.times[1]
            let row = row(domain: text, input: text, source: text, drop: when, email: text, pairs: [
                pair("dynadot", .accepted, attempts: 7, code: text, message: text, reference: text, updated: when)
            ])
            let bytes = Self.newBytes(row, run: text)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            for key in ["domain", "input", "source", "email", "run"] {
                #expect(Array((object[key] as? String ?? "<missing>").unicodeScalars) == Array(text.unicodeScalars), "\(key) of \(text.debugDescription)")
            }
            #expect(object["drop_time"] as? String == "2025-10-09T08:53:20Z")
            let outcome = try #require((object["outcomes"] as? [String: Any])?["dynadot"] as? [String: Any])
            for key in ["code", "message", "reference"] {
                #expect(Array((outcome[key] as? String ?? "<missing>").unicodeScalars) == Array(text.unicodeScalars), "\(key) of \(text.debugDescription)")
            }
            #expect(outcome["attempts"] as? Int == 7)
            #expect(outcome["state"] as? String == "accepted")
            #expect(outcome["updated"] as? String == "2025-10-09T08:53:20Z")
        }
    }

    /// Random text of every kind of scalar (control characters, ASCII specials, 2-, 3- and 4-byte UTF-8) in
    /// random mixes: the same bytes as JSONEncoder, and back unchanged from JSONSerialization.
    @Test func randomTextIsEncodedAsJSONEncoderDoesAndReadBack() throws {
        var generator = SeededGenerator(seed: 9)
        let pools: [ClosedRange<UInt32>] = [0...0x1F, 0x20...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        for i in 0..<300 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                let pool = pools.randomElement(using: &generator)!
                scalars.append(Unicode.Scalar(UInt32.random(in: pool, using: &generator))!)
            }
            let text = String(scalars)
            let when = Date(timeIntervalSince1970: Double.random(in: 0...4_102_444_800, using: &generator))
            let row = row(domain: "r\(i).com", input: text, source: text, drop: when, email: nil, pairs: [
                pair("gname", .unknown, attempts: i, message: text, reference: text, updated: when)
            ])
            let new = Self.newBytes(row, run: "r")
            #expect(new == (try Self.oldBytes(row, run: "r")), "\(text.debugDescription)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(new)) as? [String: Any])
            #expect(Array((object["input"] as? String ?? "").unicodeScalars) == Array(text.unicodeScalars))
        }
    }

    @Test func timestampsAreTheISO8601FormatStylesTruncatedUTCSeconds() {
        var generator = SeededGenerator(seed: 1)
        var times = Self.times
        for _ in 0..<2_000 { times.append(Date(timeIntervalSince1970: Double.random(in: 0...253_402_300_799, using: &generator))) }
        for time in times {
            let row = row(drop: time, pairs: [])
            let text = String(decoding: Self.newBytes(row, run: "r"), as: UTF8.self)
            #expect(text.contains("\"drop_time\" : \"\(Self.oldTimestamp(time))\""), "\(time.timeIntervalSince1970)")
        }
    }
}

/// SplitMix64: the same random numbers on every run, so a failure can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1330_11EB
        return z ^ (z >> 31)
    }
}
