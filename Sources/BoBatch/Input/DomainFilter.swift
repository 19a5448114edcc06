import Foundation

/// Why a name was filtered out: the key of `filtered.tsv`'s `reason` column and of the summary's counts, named
/// after the option that dropped it.
public enum FilterReason: String, Sendable, CaseIterable, Codable {
    case tld = "tld"
    case excludeTLD = "exclude-tld"
    case idn = "no-idn"
    case noDropDate = "no-drop-date"
    case dropAfter = "drop-after"
    case dropBefore = "drop-before"
    case hyphens = "no-hyphens"
    case digits = "no-digits"
    case minLength = "min-length"
    case maxLength = "max-length"
    case excludeFile = "exclude-file"
    case match = "match"
    case exclude = "exclude"
}

/// A filter option that cannot be used as given: the CLI prints it and exits 2 before reading any input.
public struct FilterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The filters of one `submit`, as given on the command line, before they are checked and compiled.
public struct FilterSettings: Sendable, Equatable {
    /// Keep only names under one of these suffixes (`com`, `com.pl`, `рф`), matched on whole labels.
    public var tlds: [String] = []
    /// Drop names under any of these suffixes.
    public var excludeTLDs: [String] = []
    /// Bounds on the length of the leftmost label, in characters (Unicode code points for an `xn--` label).
    public var minLength: Int?
    public var maxLength: Int?
    /// Drop names whose leftmost label has a hyphen / a digit (in its Unicode form for an `xn--` label).
    public var noHyphens = false
    public var noDigits = false
    /// Drop names with any `xn--` label (an IDN name, or any name under an IDN TLD).
    public var noIDN = false
    /// Keep only names that one of these patterns finds in the ASCII name (unanchored; use `^` and `$`).
    public var match: [String] = []
    /// Drop names that any of these patterns finds in the ASCII name.
    public var exclude: [String] = []
    /// Blocklists: names to drop, read like any input list.
    public var excludeFiles: [String] = []
    /// Keep only names whose drop date is on or after / on or before this (`YYYY-MM-DD`, a UTC day, or a
    /// timestamp); a name without a drop date is then dropped as `no-drop-date`.
    public var dropAfter: String?
    public var dropBefore: String?

    public init() {}

    /// No filter at all: ingest skips the filter entirely.
    public var isEmpty: Bool { self == FilterSettings() }
}

/// Decides, for each name read, whether it stays in the run or is filtered out, and why.
///
/// Built once per `submit` (patterns compiled, suffixes normalized, blocklists read into a set), then asked
/// once per input line: on a 1,000,000-line list every check counts. The checks run cheapest first and stop at
/// the first that drops the name (so each line gets one reason, the cheapest that applies): byte comparisons on
/// the ASCII name, the drop date, the leftmost label's bytes, Punycode decoding only for an `xn--` label when a
/// length bound is set, then one hash lookup, then the regular expressions. A filter not set costs nothing.
///
/// The label measured by `--min-length`/`--max-length`, `--no-hyphens` and `--no-digits` is the *leftmost label
/// of the name as given*: in a drop list of registrable names (`example.com`, `example.com.pl`) that is the
/// registrable label. It is counted in Unicode code points: `xn--mnchen-3ya` (münchen) is 7 long.
public struct DomainFilter: @unchecked Sendable {
    // @unchecked: `Regex<AnyRegexOutput>` is not declared Sendable; these are compiled once and only ever read.
    private let keepSuffixes: [[UInt8]]
    private let dropSuffixes: [[UInt8]]
    private let minLength: Int?
    private let maxLength: Int?
    private let noHyphens: Bool
    private let noDigits: Bool
    private let noIDN: Bool
    private let checksLabel: Bool
    private let dropAfter: Date?
    private let dropBefore: Date?
    private let blocklist: Set<String>
    private let match: [Regex<AnyRegexOutput>]
    private let exclude: [Regex<AnyRegexOutput>]

    /// What building the filter learned that the user should hear (blocklist lines that are not domains).
    public private(set) var notes: [String] = []
    /// Names held from the `--exclude-file` lists.
    public var blocklistCount: Int { blocklist.count }

    /// Checks and compiles every filter; throws a ``FilterError`` naming the option and what is wrong with it.
    public init(_ settings: FilterSettings) throws(FilterError) {
        var keep: [[UInt8]] = [], drop: [[UInt8]] = []
        for list in settings.tlds { keep += try Self.suffixes(list, option: "--tld") }
        for list in settings.excludeTLDs { drop += try Self.suffixes(list, option: "--exclude-tld") }
        keepSuffixes = keep
        dropSuffixes = drop
        if !settings.tlds.isEmpty, keepSuffixes.isEmpty { throw FilterError("--tld: no TLD given") }
        for (value, option) in [(settings.minLength, "--min-length"), (settings.maxLength, "--max-length")] {
            if let value, !(1...63).contains(value) { throw FilterError("\(option) \(value): a label has 1 to 63 characters") }
        }
        if let lo = settings.minLength, let hi = settings.maxLength, lo > hi {
            throw FilterError("--min-length \(lo) is more than --max-length \(hi): no name could pass")
        }
        minLength = settings.minLength
        maxLength = settings.maxLength
        noHyphens = settings.noHyphens
        noDigits = settings.noDigits
        noIDN = settings.noIDN
        checksLabel = minLength != nil || maxLength != nil || noHyphens || noDigits
        dropAfter = try settings.dropAfter.map { text throws(FilterError) in try Self.date(text, option: "--drop-after", endOfDay: false) }
        dropBefore = try settings.dropBefore.map { text throws(FilterError) in try Self.date(text, option: "--drop-before", endOfDay: true) }
        if let after = dropAfter, let before = dropBefore, after >= before {
            throw FilterError("--drop-after \(settings.dropAfter!) is later than --drop-before \(settings.dropBefore!): no name could pass")
        }
        match = try settings.match.map { pattern throws(FilterError) in try Self.regex(pattern, option: "--match") }
        exclude = try settings.exclude.map { pattern throws(FilterError) in try Self.regex(pattern, option: "--exclude") }
        var blocked = Set<String>()
        var notes: [String] = []
        for path in settings.excludeFiles {
            try Self.readBlocklist(path, into: &blocked, notes: &notes)
        }
        blocklist = blocked
        self.notes = notes
    }

    /// The reason `name` is filtered out, or nil when it stays. `attributes` carries the drop date the list gave.
    @inline(__always)
    public func reason(for name: DomainName, attributes: DomainAttributes) -> FilterReason? {
        let byBytes: FilterReason?? = name.ascii.utf8.withContiguousStorageIfAvailable { bytes in
            byteReason(bytes, attributes: attributes)
        }
        if let byBytes {
            if let reason = byBytes { return reason }
        } else if let reason = Array(name.ascii.utf8).withUnsafeBufferPointer({ byteReason($0, attributes: attributes) }) {
            return reason
        }
        if !blocklist.isEmpty, blocklist.contains(name.ascii) { return .excludeFile }
        if !match.isEmpty, !match.contains(where: { (try? $0.firstMatch(in: name.ascii)) != nil }) { return .match }
        if !exclude.isEmpty, exclude.contains(where: { (try? $0.firstMatch(in: name.ascii)) != nil }) { return .exclude }
        return nil
    }

    /// Every check that needs only the name's bytes and the drop date.
    private func byteReason(_ bytes: UnsafeBufferPointer<UInt8>, attributes: DomainAttributes) -> FilterReason? {
        if noIDN, Self.hasALabel(bytes) { return .idn }
        if !keepSuffixes.isEmpty, !keepSuffixes.contains(where: { Self.ends(bytes, with: $0) }) { return .tld }
        if !dropSuffixes.isEmpty, dropSuffixes.contains(where: { Self.ends(bytes, with: $0) }) { return .excludeTLD }
        if dropAfter != nil || dropBefore != nil {
            guard let drop = attributes.dropTime else { return .noDropDate }
            if let after = dropAfter, drop < after { return .dropAfter }
            if let before = dropBefore, drop >= before { return .dropBefore }
        }
        guard checksLabel else { return nil }
        let end = bytes.firstIndex(of: UInt8(ascii: ".")) ?? bytes.count
        let label = UnsafeBufferPointer(rebasing: bytes[0..<end])
        let isALabel = Self.isALabel(label)
        // In an A-label the letters before the last hyphen are the name's own ASCII characters; the rest encodes
        // the others, and its digits and that hyphen are not characters of the name.
        let basic: UnsafeBufferPointer<UInt8>
        if isALabel {
            let body = UnsafeBufferPointer(rebasing: label[4...])
            basic = UnsafeBufferPointer(rebasing: body[0..<(body.lastIndex(of: UInt8(ascii: "-")) ?? 0)])
        } else {
            basic = label
        }
        if noHyphens, basic.contains(UInt8(ascii: "-")) { return .hyphens }
        if noDigits, basic.contains(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) { return .digits }
        if minLength != nil || maxLength != nil {
            let length = isALabel ? (Self.punycodeLength(UnsafeBufferPointer(rebasing: label[4...])) ?? label.count) : label.count
            if let minLength, length < minLength { return .minLength }
            if let maxLength, length > maxLength { return .maxLength }
        }
        return nil
    }

    // MARK: - Building

    /// `com, .com.pl ,рф` → `.com`, `.com.pl`, `.xn--p1ai`: each normalized as a name's labels are, with the dot
    /// that makes the match fall on a label boundary.
    static func suffixes(_ list: String, option: String) throws(FilterError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for raw in list.split(separator: ",") {
            var entry = raw.trimmingCharacters(in: .whitespaces)
            while entry.hasPrefix(".") { entry.removeFirst() }
            if entry.isEmpty { continue }
            // A suffix alone is not a name: normalized under a placeholder label, which is then taken off again.
            let normalized: DomainName
            do {
                normalized = try DomainName(normalizing: "x." + entry)
            } catch {
                throw FilterError("\(option) '\(entry)': not a TLD or suffix: \(error.reason)")
            }
            out.append(Array(normalized.ascii.utf8.dropFirst(1)))
        }
        return out
    }

    /// `YYYY-MM-DD` is a whole UTC day: `--drop-after` starts at its first second, `--drop-before` ends after its
    /// last (so both bounds include the day named). A timestamp is that instant.
    static func date(_ text: String, option: String, endOfDay: Bool) throws(FilterError) -> Date {
        guard let date = DropDateParser.parse(text) else {
            throw FilterError("\(option) '\(text)': not a date; use YYYY-MM-DD (a UTC day) or YYYY-MM-DDTHH:MM:SSZ")
        }
        let dayOnly = !text.contains(":") && !text.allSatisfy(\.isNumber)
        return endOfDay && dayOnly ? date.addingTimeInterval(86_400) : endOfDay ? date.addingTimeInterval(0.000_001) : date
    }

    static func regex(_ pattern: String, option: String) throws(FilterError) -> Regex<AnyRegexOutput> {
        if pattern.isEmpty { throw FilterError("\(option): empty pattern") }
        do {
            return try Regex(pattern)
        } catch {
            throw FilterError("\(option) '\(pattern)': not a valid regular expression: \(error)")
        }
    }

    /// Reads a blocklist with the same reader and normalizer as the input, into a set of ASCII names. A line that
    /// is not a domain is counted and left out, not an error: the normalizer would refuse the same text in the
    /// input, so it cannot stand for any name that could be sent.
    static func readBlocklist(_ path: String, into set: inout Set<String>, notes: inout [String]) throws(FilterError) {
        let reader: DomainListReader
        do {
            reader = try DomainListReader(path: path, options: InputOptions())
        } catch {
            throw FilterError("--exclude-file: \(error.description)")
        }
        var skipped = 0
        var first: String?
        do {
            while let item = try reader.next() {
                switch item {
                case .domain(let text, let location, _):
                    do {
                        set.insert(try DomainName(normalizing: text).ascii)
                    } catch {
                        skipped += 1
                        if first == nil { first = "\(location): \(error.reason)" }
                    }
                case .problem(let location, _, let reason):
                    skipped += 1
                    if first == nil { first = "\(location): \(reason)" }
                }
            }
        } catch {
            throw FilterError("--exclude-file: \(error.description)")
        }
        if skipped > 0 {
            notes.append("--exclude-file \(path): \(skipped) line(s) are not domains and block nothing (first: \(first ?? "?"))")
        }
    }

    // MARK: - Bytes

    @inline(__always)
    static func ends(_ bytes: UnsafeBufferPointer<UInt8>, with suffix: [UInt8]) -> Bool {
        // The name must have a label of its own before the suffix: `com.pl` itself is not under `.com.pl`.
        guard bytes.count > suffix.count else { return false }
        let start = bytes.count - suffix.count
        return suffix.withUnsafeBufferPointer { s in memcmp(bytes.baseAddress! + start, s.baseAddress!, s.count) == 0 }
    }

    @inline(__always)
    static func isALabel(_ label: UnsafeBufferPointer<UInt8>) -> Bool {
        label.count >= 4 && label[0] == UInt8(ascii: "x") && label[1] == UInt8(ascii: "n") && label[2] == UInt8(ascii: "-")
            && label[3] == UInt8(ascii: "-")
    }

    static func hasALabel(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        while start + 4 <= bytes.count {
            if bytes[start] == UInt8(ascii: "x"), bytes[start + 1] == UInt8(ascii: "n"), bytes[start + 2] == UInt8(ascii: "-"),
                bytes[start + 3] == UInt8(ascii: "-")
            {
                return true
            }
            guard let dot = UnsafeBufferPointer(rebasing: bytes[start...]).firstIndex(of: UInt8(ascii: ".")) else { return false }
            start += dot + 1
        }
        return false
    }

    /// How many code points the Punycode `encoded` (an A-label without `xn--`) decodes to (RFC 3492, section
    /// 6.2), without building them: the basic ones before the last hyphen, plus one per delta. nil if malformed
    /// (the normalizer lets no such label through).
    static func punycodeLength(_ encoded: UnsafeBufferPointer<UInt8>) -> Int? {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        let hyphen = encoded.lastIndex(of: UInt8(ascii: "-"))
        var count = hyphen ?? 0
        var position = hyphen.map { $0 + 1 } ?? 0
        var i = 0, bias = 72
        while position < encoded.count {
            let oldI = i
            var w = 1, k = base
            while true {
                guard position < encoded.count else { return nil }
                let c = encoded[position]
                position += 1
                let digit: Int
                switch c {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = Int(c - UInt8(ascii: "a"))
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): digit = Int(c - UInt8(ascii: "A"))
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(c - UInt8(ascii: "0")) + 26
                default: return nil
                }
                guard digit <= (Int(Int32.max) - i) / w else { return nil }
                i += digit * w
                let t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias
                if digit < t { break }
                w *= base - t
                k += base
            }
            count += 1
            // adapt(delta, numpoints, firsttime)
            var delta = oldI == 0 ? (i - oldI) / damp : (i - oldI) / 2
            delta += delta / count
            var kk = 0
            while delta > ((base - tMin) * tMax) / 2 {
                delta /= base - tMin
                kk += base
            }
            bias = kk + (base - tMin + 1) * delta / (delta + skew)
            i %= count
            i += 1
        }
        return count
    }
}
