import Crypto
import Foundation

/// Gname's request signature, and the form body that must match it byte for byte.
///
/// The server rebuilds the signing string from the fields it decodes, so the body and the signature
/// share one encoder (`urlencode`): a field encoded one way in the body and another way in the
/// signature would fail verification only for values with unusual characters.
enum GnameSigner {
    /// PHP's `urlencode`: ASCII letters, digits and `-_.` are kept, space becomes `+`, every other byte `%XX` (uppercase).
    static func urlencode(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `name=value` pairs of every field but `gntoken`, sorted by name in byte order (PHP's `ksort`).
    static func encodedPairs(_ fields: [String: String]) -> [String] {
        fields.keys
            .filter { $0 != "gntoken" }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { "\(urlencode($0))=\(urlencode(fields[$0]!))" }
    }

    /// What is hashed: the pairs joined by `&`, the APPKEY appended without a separator.
    static func signingString(_ fields: [String: String], appKey: String) -> String {
        encodedPairs(fields).joined(separator: "&") + appKey
    }

    /// Uppercase hex MD5 of the signing string.
    static func token(_ fields: [String: String], appKey: String) -> String {
        token(pairs: encodedPairs(fields), appKey: appKey)
    }

    /// ``token(_:appKey:)`` of fields already encoded by ``encodedPairs(_:)``.
    private static func token(pairs: [String], appKey: String) -> String {
        let digest = Insecure.MD5.hash(data: Array((pairs.joined(separator: "&") + appKey).utf8))
        // By table rather than `String(format:)`, which costs a Foundation format parse per byte on every call.
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The `application/x-www-form-urlencoded` body: the signed pairs, then `gntoken`.
    /// The pairs are encoded once, for the signature and the body alike.
    static func formBody(_ fields: [String: String], appKey: String) -> String {
        let pairs = encodedPairs(fields)
        return (pairs + ["gntoken=\(token(pairs: pairs, appKey: appKey))"]).joined(separator: "&")
    }
}
