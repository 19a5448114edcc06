import Foundation

/// Reads a provider's JSON answer into the same tree `JSONSerialization.jsonObject(with:options: .fragmentsAllowed)`
/// gives (`[String: Any]`, `[Any]`, `String`, numbers, `NSNull`), for the answer readers that walk such trees
/// (Yay's and Gname's envelopes).
///
/// Why not `JSONSerialization` itself: on Linux it builds a tree of its own first, then converts every node into
/// Foundation objects (an `NSNumber` per number, bridged dictionaries), about 4 % of a Yay run's CPU for a body
/// of a hundred bytes per domain. This reader builds the final tree in one pass over the bytes.
///
/// It is strict (RFC 8259) and gives up on anything unusual, so that whatever it returns is what
/// `JSONSerialization` would have: invalid JSON, a duplicate key, a lone surrogate, an integer beyond `Int`,
/// deep nesting or invalid UTF-8 all go to `JSONSerialization`, which decides as before. Numbers differ only in
/// their box: an integer is an `Int` and any other number a `Double` (where `JSONSerialization` gives `NSNumber`s),
/// which every reader takes through ``ProviderText/jsonText(_:)`` and gets the same text from; `true` and `false`
/// are `NSNumber`s, as there.
enum ProviderJSON {
    /// The tree of `body`, or nil when it is not JSON.
    static func parse(_ body: [UInt8]) -> Any? {
        if let value = body.withUnsafeBufferPointer({ bytes -> Any? in
            var reader = Reader(bytes: bytes)
            return reader.document()
        }) {
            return value
        }
        return try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
    }

    /// The fast reader: nil means "not sure", never "not JSON".
    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        var depth = 0
        static let maxDepth = 64

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func document() -> Any? {
            skipSpace()
            guard let value = value() else { return nil }
            skipSpace()
            return i == bytes.count ? value : nil
        }

        private mutating func skipSpace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        private mutating func value() -> Any? {
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true", NSNumber(value: true))
            case UInt8(ascii: "f"): return literal("false", NSNumber(value: false))
            case UInt8(ascii: "n"): return literal("null", NSNull())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return nil
            }
        }

        private mutating func literal(_ word: StaticString, _ result: Any) -> Any? {
            let count = word.utf8CodeUnitCount
            guard bytes.count - i >= count else { return nil }
            for k in 0..<count where bytes[i + k] != word.utf8Start[k] { return nil }
            i += count
            return result
        }

        private mutating func object() -> Any? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { return nil }
            i += 1
            var out: [String: Any] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return out
            }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                skipSpace()
                guard let element = value() else { return nil }
                // A duplicate key: which one wins is JSONSerialization's to say.
                guard out.updateValue(element, forKey: key) == nil else { return nil }
                skipSpace()
                guard i < bytes.count else { return nil }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard bytes[i] == UInt8(ascii: "}") else { return nil }
                i += 1
                return out
            }
        }

        private mutating func array() -> Any? {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { return nil }
            i += 1
            var out: [Any] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                return out
            }
            while true {
                skipSpace()
                guard let element = value() else { return nil }
                out.append(element)
                skipSpace()
                guard i < bytes.count else { return nil }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard bytes[i] == UInt8(ascii: "]") else { return nil }
                i += 1
                return out
            }
        }

        /// At the opening quote.
        private mutating func string() -> String? {
            i += 1
            let start = i
            // The common case: no escapes, printable bytes up to the closing quote.
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                    i += 1
                    return text
                }
                if b == UInt8(ascii: "\\") { break }
                guard b >= 0x20 else { return nil }
                i += 1
            }
            var scalars = Array(bytes[start..<i])
            while i < bytes.count {
                let b = bytes[i]
                switch b {
                case UInt8(ascii: "\""):
                    i += 1
                    return String(validating: scalars, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    i += 1
                    guard i < bytes.count else { return nil }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(e)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let unit = hex4() else { return nil }
                        var code = UInt32(unit)
                        if (0xD800..<0xDC00).contains(unit) {
                            guard bytes.count - i >= 2, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
                            i += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            code = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(unit) {
                            return nil
                        }
                        guard let scalar = Unicode.Scalar(code) else { return nil }
                        scalars.append(contentsOf: UTF8.encode(scalar)!)
                    default:
                        return nil
                    }
                default:
                    guard b >= 0x20 else { return nil }
                    scalars.append(b)
                    i += 1
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt16? {
            guard bytes.count - i >= 4 else { return nil }
            var v: UInt16 = 0
            for _ in 0..<4 {
                let b = bytes[i]
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt16(d)
                i += 1
            }
            return v
        }

        private mutating func number() -> Any? {
            let start = i
            func digits() -> Int {
                let from = i
                while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
                return i - from
            }
            if bytes[i] == UInt8(ascii: "-") { i += 1 }
            let intStart = i
            let intDigits = digits()
            guard intDigits > 0, !(intDigits > 1 && bytes[intStart] == UInt8(ascii: "0")) else { return nil }
            var integral = true
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard digits() > 0 else { return nil }
                integral = false
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { return nil }
                integral = false
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            if integral { return Int(text) }
            guard let value = Double(text), value.isFinite else { return nil }
            return value
        }
    }
}
