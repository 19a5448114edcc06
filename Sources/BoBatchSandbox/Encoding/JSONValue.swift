/// A JSON value with ordered object keys, rendered by hand: the sandbox shares nothing with the client's decoder.
indirect enum JSONValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }

    /// How strings are escaped. PHP's `json_encode` (Gname) escapes `/` and every non-ASCII character as
    /// `\uXXXX`; most other servers leave both alone. Clients must accept either.
    enum Style: Sendable { case plain, php }

    func rendered(_ style: Style = .plain) -> String {
        var out = ""
        render(into: &out, style: style)
        return out
    }

    func render(into out: inout String, style: Style) {
        switch self {
        case .string(let value): Self.renderString(value, into: &out, style: style)
        case .int(let value): out += String(value)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.render(into: &out, style: style)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += "," }
                Self.renderString(key, into: &out, style: style)
                out += ":"
                value.render(into: &out, style: style)
            }
            out += "}"
        }
    }

    static func renderString(_ value: String, into out: inout String, style: Style) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "/" where style == .php: out += "\\/"
            default:
                if scalar.value < 0x20 || (style == .php && scalar.value > 0x7E) {
                    for unit in String(scalar).utf16 {
                        out += "\\u" + String(unit, radix: 16).leftPadded(to: 4)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
