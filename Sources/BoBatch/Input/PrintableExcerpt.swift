/// Shows a line that could not be read in a form that is safe to put in a terminal or a JSON report.
enum PrintableExcerpt {
    static let maxCharacters = 200

    static func make<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        // Only the head is ever shown, so never decode more than a few times the limit (lines can be megabytes).
        var iterator = bytes.prefix(maxCharacters * 4).makeIterator()
        var decoder = UTF8()
        var output = ""
        var count = 0
        decoding: while true {
            if count >= maxCharacters {
                output += "…"
                break
            }
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                output += escaped(scalar)
            case .error:
                output += "\u{FFFD}"
            case .emptyInput:
                if bytes.count > maxCharacters * 4 { output += "…" }
                break decoding
            }
            count += 1
        }
        return output
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0: return "\\0"
        case 0x09: return "\\t"
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x00..<0x20, 0x7F...0x9F, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
            // Bidi overrides and line separators can make a terminal line lie about its content.
            return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: return String(scalar)
        }
    }
}
