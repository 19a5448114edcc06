import Foundation
import Testing
@testable import BoBatch

@Suite("DomainName")
struct DomainNameTests {
    private func normalized(_ text: String) -> String? {
        try? DomainName(normalizing: text).ascii
    }

    private func reason(_ text: String) -> String? {
        do {
            _ = try DomainName(normalizing: text)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test("accepts and normalizes", arguments: [
        ("example.com", "example.com"),
        ("EXAMPLE.COM", "example.com"),
        ("  Example.Com.  ", "example.com"),
        ("\tshop.example.co.uk\r\n", "shop.example.co.uk"),
        ("\u{00A0}\u{3000}nbsp.com\u{2003}\u{FEFF}", "nbsp.com"),
        ("a-b.com", "a-b.com"),
        ("0-9.com", "0-9.com"),
        ("123.com", "123.com"),
        ("a.xn--p1ai", "a.xn--p1ai"),
        ("XN--BCHER-KVA.de", "xn--bcher-kva.de"),
    ])
    func accepts(input: String, expected: String) {
        #expect(normalized(input) == expected)
    }

    @Test("converts Unicode with UTS#46 non-transitional processing", arguments: [
        ("Bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.DE", "xn--bcher-kva.de"),
        ("faß.de", "xn--fa-hia.de"),
        ("ß.com", "xn--zca.com"),
        ("ｅｘａｍｐｌｅ．ｃｏｍ", "example.com"),
        ("bücher。de", "xn--bcher-kva.de"),
        ("bücher.de。", "xn--bcher-kva.de"),
        ("münchen.DE.", "xn--mnchen-3ya.de"),
        ("u\u{0308}ber.com", "xn--ber-goa.com"),
        ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ])
    func convertsUnicode(input: String, expected: String) {
        #expect(normalized(input) == expected)
    }

    @Test("rejects with a reason a person can act on", arguments: [
        ("", "empty: no domain name"),
        ("   ", "empty: no domain name"),
        (".", "empty: no domain name"),
        ("a b.com", "contains a space"),
        ("a\u{3000}b.com", "contains a space"),
        ("a\tb.com", "contains a tab"),
        ("foo-.com", "label 'foo-' ends with a hyphen"),
        ("-foo.com", "label '-foo' starts with a hyphen"),
        ("example.com-", "label 'com-' ends with a hyphen"),
        ("ab--cd.com", "label 'ab--cd' has '--' in the 3rd and 4th places, which is reserved for encodings like xn--"),
        ("localhost", "only one label: a domain needs a name and a TLD, like example.com"),
        ("bücher", "only one label: a domain needs a name and a TLD, like example.com"),
        ("a..com", "empty label: two dots in a row"),
        (".a.com", "starts with a dot"),
        ("a.com..", "empty label: two dots in a row"),
        ("a_b.com", "contains '_' (underscore), which domain names cannot have"),
        ("ａ＿ｂ.com", "contains '_' (underscore), which domain names cannot have"),
        ("example.123", "TLD '123' is all digits; a TLD has letters, like .com"),
        ("1.2.3.4", "looks like an IP address, not a domain name"),
        ("me@example.com", "contains '@': this looks like an email address, not a domain name"),
        ("example.com/path", "contains '/': remove the path, keep only the name, like example.com"),
        ("example.com:8080", "contains ':': remove the port or scheme, keep only the name, like example.com"),
        ("a,b.com", "contains ',': put one domain per line or field"),
        ("a!.com", "contains '!', which domain names cannot have (only letters, digits, hyphens and dots)"),
        ("a\0.com", "contains a NUL byte"),
        ("a\u{1B}.com", "contains a control character (U+001B)"),
        ("ü\u{85}.com", "contains a control character (U+0085)"),
        ("\u{FFFD}.com", "contains an unreadable character (U+FFFD, usually a wrong text encoding)"),
        ("☃.com", "not valid IDNA: string contains a disallowed character (label '☃')"),
        ("xn--zzzz.de", "not valid IDNA: string contains invalid punycode data (label 'xn--zzzz')"),
        ("münchen-.de", "label 'münchen-' ends with a hyphen"),
    ])
    func rejects(input: String, expected: String) {
        #expect(reason(input) == expected)
    }

    @Test func urlsAskToRemoveTheScheme() throws {
        let urlReason = try #require(reason("http://a.com/x"))
        #expect(urlReason == "looks like a URL: remove 'http://' and any path, keep only the name, like example.com")
        #expect(self.reason("HTTPS://Bücher.de/") == "looks like a URL: remove 'HTTPS://' and any path, keep only the name, like example.com")
        // Full-width "ｈｔｔｐ：／／" only becomes a scheme after UTS#46 mapping; it must still be caught.
        #expect(self.reason("ｈｔｔｐ：／／a.com")?.hasPrefix("looks like a URL: remove 'http://'") == true)
    }

    @Test func labelLengthLimitIs63() {
        let label63 = String(repeating: "a", count: 63)
        #expect(normalized("\(label63).com") == "\(label63).com")
        #expect(reason("\(label63)a.com") == "label longer than 63 characters: 'aaaaaaaaaaaaaaaaaaaa…' has 64")
        let longUnicode = String(repeating: "ü", count: 70) + ".com"
        #expect(reason(longUnicode)?.hasPrefix("label longer than 63 characters") == true)
    }

    @Test func nameLengthLimitIs253() {
        let label = String(repeating: "a", count: 63)
        let name253 = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(name253.utf8.count == 253)
        #expect(normalized(name253) == name253)
        #expect(normalized(name253 + ".") == name253)
        let name254 = name253.replacingOccurrences(of: ".bbb", with: ".bbbb")
        #expect(reason(name254) == "longer than 253 characters (254)")
    }

    @Test func hostileInputNeverCrashes() {
        let tenMegabytes = String(repeating: "a", count: 10 * 1024 * 1024)
        #expect(reason(tenMegabytes) == "longer than 253 characters (10485760)")
        let paddedWithSpaces = String(repeating: " ", count: 5 * 1024 * 1024) + "a.com"
        #expect(reason(paddedWithSpaces)?.hasPrefix("longer than 253 characters") == true)
        let unicodeFlood = String(repeating: "ü", count: 600) + ".com"
        #expect(reason(unicodeFlood)?.hasPrefix("longer than 253 characters") == true)
        let invalidUTF8 = String(decoding: [0x61, 0xFF, 0xFE, 0x2E, 0x63, 0x6F, 0x6D] as [UInt8], as: UTF8.self)
        #expect(reason(invalidUTF8) == "contains an unreadable character (U+FFFD, usually a wrong text encoding)")
        #expect(reason("\0") == "contains a NUL byte")
        #expect(reason("a.com\0evil.com") == "contains a NUL byte")
        #expect(reason("\u{200D}.com") != nil)
        #expect(reason("\u{0301}a.com") != nil)
        #expect(reason(String(repeating: ".", count: 300)) != nil)
        #expect(reason(String(repeating: "-", count: 63) + ".com") != nil)
    }

    @Test func tldAndConvenience() throws {
        let name = try DomainName(normalizing: "Shop.Bücher.DE")
        #expect(name.ascii == "shop.xn--bcher-kva.de")
        #expect(name.tld == "de")
        #expect(try DomainName(normalizing: " Example.ORG. ") == DomainName(validatedASCII: "example.org"))
        do {
            _ = try DomainName(normalizing: "nodot")
            Issue.record("expected a failure")
        } catch {
            #expect(error.reason.hasPrefix("only one label"))
        }
    }
}
