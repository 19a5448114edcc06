import Crypto

/// Gname's request signature (seed 000), implemented independently of the client's signer.
///
/// Every field sent except `gntoken`, sorted by name (byte order), each value encoded with PHP `urlencode` rules,
/// joined as `k=v&k=v`, the APPKEY appended, MD5, uppercase hex.
public enum GnameSignature {
    public static func token(fields: [(name: String, value: String)], appKey: String) -> String {
        var latest: [String: String] = [:]  // PHP keeps the last of repeated names
        for (name, value) in fields where name != "gntoken" { latest[name] = value }
        let names = latest.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let base = names.map { "\(phpURLEncode($0))=\(phpURLEncode(latest[$0]!))" }.joined(separator: "&") + appKey
        return Insecure.MD5.hash(data: Array(base.utf8)).map { byte in
            String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }.joined()
    }

    /// PHP `urlencode`: letters, digits and `-_.` stay; space becomes `+`; every other byte is `%XX` (uppercase).
    public static func phpURLEncode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}
