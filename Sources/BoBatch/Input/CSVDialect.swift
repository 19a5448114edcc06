/// The CSV flavour of one file: its delimiter, and how its records split into fields (RFC 4180 quoting,
/// read leniently: spreadsheets and hand edits rarely follow the RFC to the letter).
struct CSVDialect: Sendable, Hashable {
    static let candidates: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t")]
    static let quote = UInt8(ascii: "\"")

    var delimiter: UInt8

    /// The delimiter a data line uses, or `nil` when it has none outside quotes (then the file is a plain list).
    static func detectDelimiter<Bytes: Collection<UInt8>>(in line: Bytes) -> UInt8? {
        var counts = [0, 0, 0]
        var inQuotes = false
        for byte in line {
            if byte == quote {
                inQuotes.toggle()
            } else if !inQuotes, let index = candidates.firstIndex(of: byte) {
                counts[index] += 1
            }
        }
        guard let best = counts.max(), best > 0, let index = counts.firstIndex(of: best) else { return nil }
        return candidates[index]
    }

    /// The spaces a field may be padded with; a tab is not padding when it is the delimiter.
    func isPadding(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || (byte == UInt8(ascii: "\t") && delimiter != UInt8(ascii: "\t"))
    }

    struct Split: Sendable {
        var fields: [String]
        /// Text followed a closing quote (`"a"b`). On a one-line record that is kept as text; on a record that
        /// spans lines it means a stray quote swallowed the line breaks.
        var strayTextAfterQuote: Bool
    }

    /// Splits one record (valid UTF-8, already cut at its end by the scanner) into trimmed, unquoted fields.
    func split(_ record: ArraySlice<UInt8>) -> Split {
        var fields: [String] = []
        var stray = false
        var index = record.startIndex
        let end = record.endIndex
        while true {
            while index < end, isPadding(record[index]) { index += 1 }
            var field: [UInt8] = []
            if index < end, record[index] == Self.quote {
                index += 1
                while index < end {
                    let byte = record[index]
                    if byte == Self.quote {
                        if index + 1 < end, record[index + 1] == Self.quote {
                            field.append(Self.quote)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    field.append(byte)
                    index += 1
                }
                var trailing: [UInt8] = []
                while index < end, record[index] != delimiter {
                    trailing.append(record[index])
                    index += 1
                }
                if trailing.contains(where: { !isPadding($0) }) {
                    stray = true
                    field.append(contentsOf: trailing)
                }
            } else {
                let start = index
                while index < end, record[index] != delimiter { index += 1 }
                field.append(contentsOf: record[start..<index])
            }
            while let last = field.last, isPadding(last) { field.removeLast() }
            fields.append(String(decoding: field, as: UTF8.self))
            guard index < end else { break }
            index += 1  // the delimiter
            if index == end {
                fields.append("")
                break
            }
        }
        return Split(fields: fields, strayTextAfterQuote: stray)
    }
}

/// The column names a header row may use, matched case-insensitively with `_` read as a space.
enum ColumnName {
    /// In order of preference: a file with both "domain" and "name" columns means the first.
    static let domain = ["domain", "domain name", "domainname", "name"]
    /// `release date`: the .se/.nu lists (`release_date`, Internetstiftelsen's `release_at`); `finalizationdate`:
    /// HEXONET's QueryDomainPendingDeleteList; `date available`: pool.com-style lists.
    static let dropDate = [
        "drop date", "dropdate", "date", "delete date", "deletion date", "expires", "release date", "release at",
        "finalization date", "finalizationdate", "date available", "available date", "drop time", "drop",
    ]
    static let email = ["email", "e-mail", "whois email"]
    /// Some lists split the name from its TLD (`example` | `com`); used only alongside a header.
    static let tld = ["tld", "extension"]

    static func key(_ cell: String) -> String {
        cell.lowercased().replacingUnderscores().replacingDoubleSpaces().trimmingSpacesAndTabs()
    }

    static func isKnown(_ cell: String) -> Bool {
        let key = key(cell)
        return domain.contains(key) || dropDate.contains(key) || email.contains(key)
    }

    /// The index of the first header cell that any of `names` matches, in the order of `names`.
    static func index(of names: [String], in header: [String]) -> Int? {
        let keys = header.map(key)
        for name in names {
            if let index = keys.firstIndex(of: name) { return index }
        }
        return nil
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(unicodeScalars.map { $0 == "_" ? " " : Character($0) })
    }

    fileprivate func replacingDoubleSpaces() -> String {
        var result = ""
        var previousWasSpace = false
        for character in self {
            if character == " " && previousWasSpace { continue }
            previousWasSpace = character == " "
            result.append(character)
        }
        return result
    }

    /// Only ASCII padding: Unicode spaces inside a field are the normalizer's to judge.
    func trimmingSpacesAndTabs() -> String {
        // The common case, a million times a run: nothing to trim, no copy. A first or last Character that is
        // a space or a tab is that one byte, so looking at the end bytes decides it.
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        if let first = utf8.first, let last = utf8.last, first != space, first != tab, last != space, last != tab { return String(self) }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
