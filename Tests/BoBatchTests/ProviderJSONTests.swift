import Foundation
import Testing

@testable import BoBatch

/// `ProviderJSON` must read every body as `JSONSerialization` does, as far as the answer readers can tell
/// (containers, strings, and the text ``ProviderText/jsonText(_:)`` makes of numbers and booleans).
@Suite struct ProviderJSONTests {
    /// A tree as the readers see it; the same string means the same answer for Yay's and Gname's readers.
    static func canonical(_ value: Any?) -> String {
        guard let value else { return "nil" }
        switch value {
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { "\(Self.quoted($0)):\(canonical(object[$0]))" }.joined(separator: ",") + "}"
        case let list as [Any]:
            return "[" + list.map(canonical).joined(separator: ",") + "]"
        case is NSNull:
            return "null"
        case let text as String:
            return "s" + Self.quoted(text)
        default:
            return "n" + (ProviderText.jsonText(value) ?? "?") + "/" + (ProviderText.jsonInt(value).map(String.init) ?? "-")
        }
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.unicodeScalars.map { $0.value < 0x20 || $0.value > 0x7E ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined() + "\""
    }

    static func expectSame(_ body: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let bytes = Array(body.utf8)
        let foundation = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        #expect(canonical(ProviderJSON.parse(bytes)) == canonical(foundation), "\(body)", sourceLocation: sourceLocation)
    }

    @Test func readsProviderAnswersAsJSONSerializationDoes() {
        let bodies = [
            #"{"result":{"uuid":"31347d42-00bd-44a5-9b5c-20dc4197a2f6","domain_name":"example.com","expires_on":"2026-01-01"},"status_code":201,"status_message":"Created"}"#,
            #"{"result":{},"status_code":401,"status_message":"Unauthorized"}"#,
            #"{"result":[{"domain_name":"a.com","uuid":"u1"},{"domain":"b.com","uuid":7}],"status_code":"200"}"#,
            #"[{"domain_name":"a.com","uuid":"u1"}]"#,
            #"{"code":1,"msg":"ok","data":{"id":"12","ym":"a.com","zt":"2","sclx":3,"qian":12.5,"dqian":"0.00"}}"#,
            #"{"code":-1,"msg":"Insufficient balance","data":""}"#,
            #"{"code":"1","msg":"ok","data":{"ok":["a.com",{"ym":"b.com","code":1}],"err":{"1":{"ym":"c.com","msg":"taken"}}}}"#,
            #"{"code":1,"data":[],"msg":null,"flag":true,"other":false,"big":1e3,"neg":-0,"frac":-12.250,"exp":2.5E-3}"#,
            " \n\t{ \"a\" : [ 1 , 2 , { } , [ ] ] , \"b\" : \"\" } \r\n",
            #"{"esc":"quote \" backslash \\ slash \/ \b\f\n\r\t unicode \u00e9 \u4e2d pair \ud83d\ude00 nul \u0000"}"#,
            #"{"utf8":"héllo 中文 😀","key with spaces ":" value with spaces "}"#,
            #""just a string""#, "42", "-7", "3.5", "true", "null",
            #"{"n":9223372036854775807,"m":-9223372036854775808}"#,
            #"{"huge":9223372036854775808,"tiny":1e-400,"many":123456789012345678901234567890}"#,
            #"{"dup":1,"dup":2}"#,
            #"{"lone":"\ud800"}"#, #"{"low":"\udc00x"}"#,
            // Not JSON: both must refuse.
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "-", "1.", ".5", "1e", "+1", "tru", "nul",
            "{\"a\":1} x", "\"unterminated", "\"tab\there\"", "[1 2]", "{\"a\" 1}", "NaN", "Infinity", #""\x""#, #""\u12G4""#,
            "<html><body>502 Bad Gateway</body></html>",
        ]
        for body in bodies { Self.expectSame(body) }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        Self.expectSame(deep)
        // Invalid UTF-8 inside a string.
        let invalid: [UInt8] = Array(#"{"a":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let foundation = try? JSONSerialization.jsonObject(with: Data(invalid), options: [.fragmentsAllowed])
        #expect(Self.canonical(ProviderJSON.parse(invalid)) == Self.canonical(foundation))
    }

    /// Random trees, written with random spacing and escapes: read alike.
    @Test func readsRandomDocumentsAsJSONSerializationDoes() {
        var generator = SeededGenerator(seed: 20261201)
        for _ in 0..<400 {
            Self.expectSame(Self.randomJSON(depth: 0, using: &generator))
        }
    }

    static func randomJSON(depth: Int, using g: inout SeededGenerator) -> String {
        func space() -> String { ["", " ", "\n", "\t ", "\r\n"][Int(g.next() % 5)] }
        let kind = depth > 3 ? Int(g.next() % 5) + 2 : Int(g.next() % 7)
        switch kind {
        case 0:
            let n = Int(g.next() % 4)
            let members = (0..<n).map { i in space() + randomString(using: &g, key: i) + space() + ":" + space() + randomJSON(depth: depth + 1, using: &g) }
            return "{" + members.joined(separator: ",") + space() + "}"
        case 1:
            let n = Int(g.next() % 4)
            return "[" + (0..<n).map { _ in space() + randomJSON(depth: depth + 1, using: &g) + space() }.joined(separator: ",") + "]"
        case 2, 3:
            return randomString(using: &g, key: nil)
        case 4:
            let numbers = ["0", "-0", "1", "-1", "42", "1.5", "-2.25", "1e2", "1E-2", "2.0", "123456789", "-987654321012", "0.1", "1e308", "5e-324"]
            return numbers[Int(g.next() % UInt64(numbers.count))]
        case 5:
            return ["true", "false"][Int(g.next() % 2)]
        default:
            return "null"
        }
    }

    static func randomString(using g: inout SeededGenerator, key: Int?) -> String {
        let pieces = ["a", "uuid", " ", "é", "中", "😀", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u0041", "\\u00e9", "\\ud83d\\ude00", "-", "0"]
        let n = Int(g.next() % 6)
        let body = (0..<n).map { _ in pieces[Int(g.next() % UInt64(pieces.count))] }.joined()
        // Distinct keys: a duplicate is JSONSerialization's to decide (and tested above).
        return "\"" + (key.map { "k\($0)" } ?? "") + body + "\""
    }
}
