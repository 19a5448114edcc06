import Foundation

/// Turns one domain's row into the bytes of its result file: exactly what `JSONEncoder` with
/// `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` wrote before (two-space indent, `"key" : value`,
/// keys in order, `/` as is, `\b \t \n \f \r \" \\` and `\u00xx` for the other control characters, the rest as
/// UTF-8), so README's `grep -l '"domain" : "NAME"'` and every reader of the old files still work.
///
/// Why by hand: a run writes one file per domain, and `JSONEncoder` (a `Codable` container tree, a dictionary
/// per object, key sorting, `ISO8601FormatStyle` for the timestamps) cost more CPU per domain than the whole
/// send. This writes into one reused buffer with no intermediate objects. `ResultFileEncoderTests` hold it to
/// `JSONEncoder`'s bytes and round-trip hostile strings through `JSONSerialization`.
struct ResultFileEncoder {
    /// The last file encoded; reused, so a flush allocates it once.
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1024) }

    /// Encodes `result` (its pairs in provider order, as ``Ledger/dueResults(run:afterDomain:limit:movedOnly:)`` gives
    /// them) into ``bytes``.
    mutating func encode(_ result: DomainResultRow, run: String) {
        bytes.removeAll(keepingCapacity: true)
        // Keys in sorted order: domain, drop_time, email, input, outcomes, run, source.
        raw("{\n  \"domain\" : ")
        string(result.domain)
        if let drop = result.dropTime {
            raw(",\n  \"drop_time\" : \"")
            timestamp(drop)
            raw("\"")
        }
        if let email = result.email {
            raw(",\n  \"email\" : ")
            string(email)
        }
        raw(",\n  \"input\" : ")
        string(result.input)
        raw(",\n  \"outcomes\" : {\n")
        if result.pairs.isEmpty {
            // JSONEncoder's pretty printing of an empty object.
            raw("\n  }")
        } else {
            var first = true
            for pair in Self.sortedByProvider(result.pairs) {
                if !first { raw(",\n") }
                first = false
                raw("    ")
                string(pair.provider)
                // Keys in sorted order: attempts, code, fate, message, reference, state, updated.
                raw(" : {\n      \"attempts\" : ")
                integer(pair.attempts)
                if let code = pair.code {
                    raw(",\n      \"code\" : ")
                    string(code)
                }
                if let fate = pair.fate { encode(fate) }
                raw(",\n      \"message\" : ")
                string(pair.message)
                if let reference = pair.reference {
                    raw(",\n      \"reference\" : ")
                    string(reference)
                }
                raw(",\n      \"state\" : ")
                string(pair.state.reported)
                raw(",\n      \"updated\" : \"")
                timestamp(pair.updated)
                raw("\"\n    }")
            }
            raw("\n  }")
        }
        raw(",\n  \"run\" : ")
        string(run)
        raw(",\n  \"source\" : ")
        string(result.source)
        raw("\n}")
    }

    /// A pair's `"fate"` object (issue 11), keys in sorted order: changed_at, checked_at, currency, detail, ends_at,
    /// frozen, price, state. Pairs without a fate have no key, so their files keep their bytes.
    private mutating func encode(_ fate: FateRecord) {
        raw(",\n      \"fate\" : {\n        \"changed_at\" : \"")
        timestamp(fate.changedAt)
        raw("\",\n        \"checked_at\" : \"")
        timestamp(fate.checkedAt)
        raw("\"")
        if let currency = fate.report.currency {
            raw(",\n        \"currency\" : ")
            string(currency)
        }
        raw(",\n        \"detail\" : ")
        string(fate.report.detail)
        if let ends = fate.report.endsAt {
            raw(",\n        \"ends_at\" : \"")
            timestamp(ends)
            raw("\"")
        }
        if let frozen = fate.report.frozen {
            raw(",\n        \"frozen\" : ")
            string(frozen)
        }
        if let price = fate.report.price {
            raw(",\n        \"price\" : ")
            string(price)
        }
        raw(",\n        \"state\" : ")
        string(fate.report.fate.rawValue)
        raw("\n      }")
    }

    /// The pairs as a dictionary keyed by provider would hold them: sorted, and one per provider (the last).
    private static func sortedByProvider(_ pairs: [PairResultRow]) -> [PairResultRow] {
        var sorted = true
        for i in pairs.indices.dropFirst() where !(pairs[i - 1].provider < pairs[i].provider) {
            sorted = false
            break
        }
        if sorted { return pairs }
        var last: [String: PairResultRow] = [:]
        for pair in pairs { last[pair.provider] = pair }
        return last.values.sorted { $0.provider < $1.provider }
    }

    private mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func integer(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string: `"`, `\` and the control characters U+0000-U+001F escaped (RFC 8259 §7) as JSONEncoder
    /// does; everything else, `/`, DEL and all non-ASCII included, copied as UTF-8.
    private mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for i in 0..<utf8.count {
                let byte = utf8[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC, seconds truncated: what `Date.ISO8601FormatStyle(includingFractionalSeconds:
    /// false, timeZone: .gmt)` writes, computed with Howard Hinnant's `civil_from_days` instead of a calendar.
    private mutating func timestamp(_ date: Date) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        padded(year, 4)
        bytes.append(UInt8(ascii: "-"))
        padded(month, 2)
        bytes.append(UInt8(ascii: "-"))
        padded(day, 2)
        bytes.append(UInt8(ascii: "T"))
        padded(secondOfDay / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        padded(secondOfDay / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        padded(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: "Z"))
    }

    private mutating func padded(_ value: Int, _ width: Int) {
        guard value >= 0 else { return integer(value) }
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 1, value < divisor {
            bytes.append(UInt8(ascii: "0"))
            divisor /= 10
        }
        integer(value)
    }
}
