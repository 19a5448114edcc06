import Foundation

/// Reads the drop dates that domain lists carry, in the handful of shapes they come in.
///
/// Hand-written rather than `DateFormatter`: the shapes are few and fixed, a million rows must parse fast, and
/// nothing here may depend on the machine's locale or time zone. A time without a zone is taken as UTC, as
/// registries publish drop times in UTC; a date alone is the start of that day, UTC.
enum DropDateParser {
    static func parse(_ text: some StringProtocol) -> Date? {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes.removeLast() }
        let firstNonSpace = bytes.firstIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } ?? bytes.endIndex
        var cursor = Cursor(bytes: bytes[firstNonSpace...])
        if cursor.isAtEnd || bytes.count > 64 { return nil }

        if cursor.remaining.allSatisfy(isDigit) {
            // Unix seconds, but only in a plausible range: a bare "2025" or a price must not become a date.
            guard (9...11).contains(cursor.remaining.count), let seconds = Int(String(decoding: cursor.remaining, as: UTF8.self)),
                  seconds >= 100_000_000 else { return nil }
            return Date(timeIntervalSince1970: TimeInterval(seconds))
        }

        let year: Int, month: Int, day: Int
        if let first = cursor.number(minDigits: 4, maxDigits: 4), cursor.skip("-") {
            guard let m = cursor.number(minDigits: 1, maxDigits: 2), cursor.skip("-"),
                  let d = cursor.number(minDigits: 1, maxDigits: 2) else { return nil }
            (year, month, day) = (first, m, d)
        } else {
            cursor = Cursor(bytes: bytes[firstNonSpace...])
            // US order (M/D/Y): the lists that use slashes are exported by US-based drop catchers.
            guard let m = cursor.number(minDigits: 1, maxDigits: 2), cursor.skip("/"),
                  let d = cursor.number(minDigits: 1, maxDigits: 2), cursor.skip("/"),
                  let y = cursor.number(minDigits: 4, maxDigits: 4) else { return nil }
            (year, month, day) = (y, m, d)
        }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day) else { return nil }

        var seconds = 0
        if !cursor.isAtEnd {
            guard cursor.skip("T") || cursor.skip(" ") else { return nil }
            while cursor.skip(" ") {}
            guard let hour = cursor.number(minDigits: 1, maxDigits: 2), cursor.skip(":"),
                  let minute = cursor.number(minDigits: 2, maxDigits: 2),
                  hour < 24, minute < 60 else { return nil }
            var second = 0
            if cursor.skip(":") {
                guard let s = cursor.number(minDigits: 2, maxDigits: 2), s <= 60 else { return nil }
                second = s
                if cursor.skip(".") || cursor.skip(",") {
                    guard cursor.number(minDigits: 1, maxDigits: 9) != nil else { return nil }
                }
            }
            seconds = hour * 3600 + minute * 60 + second
            guard let offset = cursor.zoneOffset() else { return nil }
            seconds -= offset
        }
        guard cursor.isAtEnd else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + seconds))
    }

    private struct Cursor {
        var bytes: ArraySlice<UInt8>
        var isAtEnd: Bool { bytes.isEmpty }
        var remaining: ArraySlice<UInt8> { bytes }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard let first = bytes.first, first == UInt8(ascii: character) else { return false }
            bytes.removeFirst()
            return true
        }

        mutating func number(minDigits: Int, maxDigits: Int) -> Int? {
            var value = 0
            var digits = 0
            while digits < maxDigits, let first = bytes.first, DropDateParser.isDigit(first) {
                value = value * 10 + Int(first - UInt8(ascii: "0"))
                digits += 1
                bytes.removeFirst()
            }
            return digits >= minDigits ? value : nil
        }

        /// Seconds east of UTC; no zone at all means UTC.
        mutating func zoneOffset() -> Int? {
            while skip(" ") {}
            if isAtEnd || skip("Z") || skip("z") { return 0 }
            let word = String(decoding: bytes, as: UTF8.self).uppercased()
            if word == "UTC" || word == "GMT" {
                bytes.removeAll()
                return 0
            }
            let sign: Int
            if skip("+") { sign = 1 } else if skip("-") { sign = -1 } else { return nil }
            guard let hours = number(minDigits: 2, maxDigits: 2), hours <= 14 else { return nil }
            _ = skip(":")
            let minutes = number(minDigits: 2, maxDigits: 2) ?? 0
            guard minutes < 60 else { return nil }
            return sign * (hours * 3600 + minutes * 60)
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
