import Foundation

/// One ISPAPI plain-text answer (`[RESPONSE]`, `key = value` lines, `EOF`) as plain values.
///
/// Tolerant on purpose: the format is loosely specified (case, spacing, line ends and order all vary), and a
/// parse failure on a create means "maybe processed", which costs a lookup. Strict only where guessing could
/// turn a failure into a success: the code must be present, numeric and unambiguous.
struct ISPAPIResponse: Sendable, Equatable {
    enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case noResponseSection
        case missingCode
        case malformedCode(String)
        /// Two different CODE lines: the answer cannot be trusted either way.
        case conflictingCode(String, String)

        var description: String {
            switch self {
            case .noResponseSection: "the answer has no [RESPONSE] section"
            case .missingCode: "the answer has no CODE"
            case .malformedCode(let raw): "the answer's CODE \"\(raw.prefix(20))\" is not a number"
            case .conflictingCode(let a, let b): "the answer has two different CODEs (\(a.prefix(20)), \(b.prefix(20)))"
            }
        }
    }

    /// Indices above this are ignored, so a hostile index cannot make anything allocate or overflow.
    static let maxPropertyIndex = 999_999_999

    var code: Int
    var description: String
    /// Top-level keys other than properties, upper-cased (CODE, DESCRIPTION, RUNTIME, QUEUETIME, ...).
    var fields: [String: String]
    /// `PROPERTY[NAME][i]` by upper-cased NAME, then index. Sparse: indices need not be contiguous.
    var properties: [String: [Int: String]]
    /// False when the text ended before `EOF`, the format's only end marker: the answer was cut short, and any
    /// value in it, the last one above all, may be a prefix of what was sent. Classifiers give such an answer
    /// no verdict (a create is "maybe processed", a lookup or status "unavailable").
    var reachedEOF: Bool

    var runtime: Double? { fields["RUNTIME"].flatMap { Double($0) } }
    var queuetime: Double? { fields["QUEUETIME"].flatMap { Double($0) } }

    init(parsing text: String) throws(ParseError) {
        var inResponse = false
        var reachedEOF = false
        var codeText: String?
        var fields: [String: String] = [:]
        var properties: [String: [Int: String]] = [:]

        for rawLine in Self.lines(of: text) {
            let line = Self.trimmed(rawLine, Self.blank)
            if !inResponse {
                if line.uppercased() == "[RESPONSE]" { inResponse = true }
                continue
            }
            if line.uppercased() == "EOF" {
                reachedEOF = true
                break
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = Self.trimmed(line[..<equals], Self.blank).uppercased()
            let value = Self.trimmed(line[line.index(after: equals)...], Self.blank)
            guard !key.isEmpty else { continue }

            if key.hasPrefix("PROPERTY") {
                if let (name, index) = Self.propertyKey(key) {
                    properties[name, default: [:]][index] = value
                }
            } else if key == "CODE" {
                if let earlier = codeText, earlier != value { throw .conflictingCode(earlier, value) }
                codeText = value
            } else {
                fields[key] = value
            }
        }

        guard inResponse else { throw .noResponseSection }
        guard let codeText, !codeText.isEmpty else { throw .missingCode }
        guard codeText.count <= 4, codeText.allSatisfy(Self.isDigit), let code = Int(codeText) else {
            throw .malformedCode(codeText)
        }
        fields["CODE"] = codeText
        self.code = code
        self.description = fields["DESCRIPTION"] ?? ""
        self.fields = fields
        self.properties = properties
        self.reachedEOF = reachedEOF
    }

    /// Values of `PROPERTY[name][…]` in index order (gaps skipped).
    func property(_ name: String) -> [String] {
        guard let values = properties[name.uppercased()] else { return [] }
        return values.keys.sorted().map { values[$0]! }
    }

    func property(_ name: String, _ index: Int) -> String? {
        properties[name.uppercased()]?[index]
    }

    /// Every property as a list in index order, for callers that want all of them.
    var propertyLists: [String: [String]] {
        properties.mapValues { values in values.keys.sorted().map { values[$0]! } }
    }

    private static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }

    private static let blank = CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{FEFF}"))

    /// The text's lines, empty ones left out: split where `Character.isNewline`. An all-ASCII answer (every
    /// answer seen so far) is split by its bytes, since walking it Character by Character was a third of reading
    /// it; there the newline characters are LF, VT, FF, CR and CR LF, so splitting at each of those bytes and
    /// dropping the empty pieces gives the same lines.
    static func lines(of text: String) -> [Substring] {
        let utf8 = text.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else {
            return text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        }
        var out: [Substring] = []
        var start = utf8.startIndex
        var index = start
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte >= 0x0A && byte <= 0x0D {
                if start != index { out.append(text[start..<index]) }
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        if start != utf8.endIndex { out.append(text[start..<utf8.endIndex]) }
        return out
    }

    /// `text.trimmingCharacters(in: set)`, without Foundation when both ends are printable ASCII other than a
    /// space (no set used here holds one of those): nearly every line and value of an answer, and Foundation's
    /// trimming was half the cost of reading one.
    static func trimmed(_ text: String, _ set: CharacterSet) -> String {
        trimmed(Substring(text), set)
    }

    static func trimmed(_ text: Substring, _ set: CharacterSet) -> String {
        func isPlain(_ byte: UInt8?) -> Bool { byte.map { $0 > 0x20 && $0 < 0x7F } ?? false }
        if isPlain(text.utf8.first), isPlain(text.utf8.last) { return String(text) }
        return text.trimmingCharacters(in: set)
    }

    /// Reads `PROPERTY[NAME][INDEX]` from an upper-cased key, allowing spaces inside and between the brackets.
    /// Anything else starting with PROPERTY (no index, a non-numeric or huge index) is ignored: it cannot be
    /// placed in a parallel array.
    private static func propertyKey(_ key: String) -> (String, Int)? {
        var rest = Substring(key.dropFirst("PROPERTY".count)).drop(while: \.isWhitespace)
        guard rest.first == "[", let close = rest.firstIndex(of: "]") else { return nil }
        let name = trimmed(rest[rest.index(after: rest.startIndex)..<close], .whitespaces)
        rest = rest[rest.index(after: close)...].drop(while: \.isWhitespace)
        guard !name.isEmpty, rest.first == "[", rest.last == "]", rest.count >= 2 else { return nil }
        let indexText = trimmed(rest.dropFirst().dropLast(), .whitespaces)
        guard !indexText.isEmpty, indexText.count <= 9, indexText.allSatisfy(Self.isDigit),
            let index = Int(indexText), index <= maxPropertyIndex
        else { return nil }
        return (name, index)
    }
}
