import BoBatchXML
import Foundation
import TestSupport
import Testing

@Suite struct XMLDocumentParserTests {
    private func parse(_ text: String, maxBytes: Int = 64 << 20) throws(XMLParseError) -> XMLElement {
        try XMLDocumentParser.parse(Array(text.utf8), maxBytes: maxBytes)
    }

    private func parseError(_ bytes: [UInt8], maxBytes: Int = 64 << 20) -> XMLParseError? {
        do {
            let root = try XMLDocumentParser.parse(bytes, maxBytes: maxBytes)
            Issue.record("expected a parse error, got root <\(root.name)>")
            return nil
        } catch {
            return error
        }
    }

    private func parseError(_ text: String, maxBytes: Int = 64 << 20) -> XMLParseError? {
        parseError(Array(text.utf8), maxBytes: maxBytes)
    }

    // MARK: - Shapes providers send

    @Test func dynadotSuccessAnswer() throws {
        let root = try parse("""
            <AddBackorderRequestResponse><AddBackorderRequestHeader><SuccessCode>0</SuccessCode>\
            <Status>success</Status></AddBackorderRequestHeader></AddBackorderRequestResponse>
            """)
        #expect(root.name == "AddBackorderRequestResponse")
        #expect(root.path("AddBackorderRequestHeader", "SuccessCode")?.text == "0")
        #expect(root.path("AddBackorderRequestHeader", "Status")?.text == "success")
        #expect(root.path("AddBackorderRequestHeader", "Error") == nil)
    }

    @Test func dynadotCommandIndependentError() throws {
        let root = try parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Response>
              <ResponseHeader>
                <ResponseCode>-1</ResponseCode>
                <Error>invalid key</Error>
              </ResponseHeader>
            </Response>
            """)
        #expect(root.name == "Response")
        #expect(root.path("ResponseHeader", "ResponseCode")?.text == "-1")
        #expect(root.firstDescendant(named: "Error")?.text == "invalid key")
        #expect(root.text == "")
    }

    @Test func declaredLatin1EncodingIsConvertedToUTF8() throws {
        var bytes = Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><Name>caf"#.utf8)
        bytes.append(0xE9)  // é in Latin-1, invalid on its own in UTF-8
        bytes += Array("</Name>".utf8)
        let root = try XMLDocumentParser.parse(bytes)
        #expect(root.text == "café")
    }

    @Test func utf8DeclarationAndByteOrderMark() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(#"<?xml version="1.0" encoding="utf-8"?><a>домен.рф</a>"#.utf8)
        #expect(try XMLDocumentParser.parse(bytes).text == "домен.рф")
    }

    @Test func cdataAndPredefinedEntitiesBecomeText() throws {
        let root = try parse("""
            <r><a>x &amp; y &lt; z &gt; &quot;q&quot; &apos;s&apos; &#233;&#x20AC;</a>\
            <b><![CDATA[<Error>&amp; stays</Error>]]></b>\
            <c>  one <i>skip</i> two  </c><d/><e></e></r>
            """)
        #expect(root.child("a")?.text == "x & y < z > \"q\" 's' é€")
        #expect(root.child("b")?.text == "<Error>&amp; stays</Error>")
        // Direct text only, concatenated across the child, trimmed at the ends.
        #expect(root.child("c")?.text == "one  two")
        #expect(root.child("c")?.child("i")?.text == "skip")
        #expect(root.child("d") == XMLElement(name: "d"))
        #expect(root.child("e") == XMLElement(name: "e"))
    }

    @Test func commentsProcessingInstructionsAndAttributesAreDropped() throws {
        let root = try parse(#"<?xml version="1.0"?><!-- c --><r a="1"><?pi x?><s:x xmlns:s="urn:s">v<!-- in --></s:x></r>"#)
        #expect(root == XMLElement(name: "r", children: [XMLElement(name: "s:x", text: "v")]))
    }

    @Test func navigationHelpers() throws {
        let root = try parse("""
            <BackorderRequestListContent><BackorderRequestList>
              <BackorderRequest><DomainName>a.com</DomainName></BackorderRequest>
              <Other><BackorderRequest><DomainName>nested.com</DomainName></BackorderRequest></Other>
              <BackorderRequest><Domain>b.net</Domain></BackorderRequest>
            </BackorderRequestList></BackorderRequestListContent>
            """)
        let list = try #require(root.child("BackorderRequestList"))
        #expect(list.children(named: "BackorderRequest").count == 2)
        #expect(root.descendants(named: "BackorderRequest").count == 3)
        #expect(root.descendants(named: "DomainName").map(\.text) == ["a.com", "nested.com"])
        #expect(root.firstDescendant(named: "Domain")?.text == "b.net")
        #expect(root.firstDescendant(named: "BackorderRequestListContent") == nil, "self is not its own descendant")
        #expect(root.path() == root)
        #expect(root.path("BackorderRequestList", "BackorderRequest", "DomainName")?.text == "a.com")
        #expect(root.path("backorderrequestlist") == nil, "names are case-sensitive")
    }

    // MARK: - Hostile input

    @Test func documentTypeDeclarationsAreRefused() {
        for document in [
            "<!DOCTYPE r><r/>",
            "<!DOCTYPE html>\n<html><body>502</body></html>",
            #"<?xml version="1.0"?><!DOCTYPE r SYSTEM "r.dtd"><r/>"#,
            "<!DOCTYPE r [<!ELEMENT r (#PCDATA)>]><r>x</r>",
        ] {
            let error = parseError(document)
            #expect(error?.message.contains("document type declarations are not accepted") == true, "\(document)")
        }
    }

    @Test func documentTypeIsFoundAfterDeclarationCommentsAndInOtherCase() {
        let error = parseError("<?xml version=\"1.0\"?>\n<!-- a -->\n<?pi?>\n<!doctype r><r/>")
        #expect(error?.message == "line 4: document type declarations are not accepted")
        #expect(error?.line == 4)
    }

    @Test func documentTypeInUTF16IsRefusedByTheReaderCheck() {
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in "<!DOCTYPE r [<!ENTITY x \"y\">]><r>&x;</r>".utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect(parseError(bytes)?.message.contains("document type declarations are not accepted") == true)
        var plain: [UInt8] = [0xFF, 0xFE]
        for unit in "<r>ü</r>".utf16 { plain += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        #expect((try? XMLDocumentParser.parse(plain))?.text == "ü")
    }

    @Test func externalEntityCannotReadLocalFiles() throws {
        let marker = "TOP-SECRET-\(UUID().uuidString)"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("xxe-\(UUID().uuidString).txt")
        try Data(marker.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        for document in [
            #"<!DOCTYPE r [<!ENTITY x SYSTEM "\#(file.absoluteString)">]><r>&x;</r>"#,
            #"<!DOCTYPE r [<!ENTITY % p SYSTEM "\#(file.absoluteString)"> %p;]><r/>"#,
            #"<!DOCTYPE r SYSTEM "\#(file.absoluteString)"><r>&x;</r>"#,
        ] {
            let error = parseError(document)
            #expect(error?.message.contains("document type declarations are not accepted") == true)
            #expect(error?.message.contains(marker) == false)
        }
        // Without a DOCTYPE there is no way to declare the entity at all.
        #expect(parseError("<r>&x;</r>")?.message.contains("not defined") == true)
    }

    @Test func externalDefinitionsAreNeverFetched() async throws {
        try await LoopbackHTTPServer.with({ _ in .text("<!ENTITY x \"fetched\">") }) { server in
            for document in [
                #"<!DOCTYPE r SYSTEM "\#(server.baseURL)/evil.dtd"><r>&x;</r>"#,
                #"<!DOCTYPE r [<!ENTITY x SYSTEM "\#(server.baseURL)/x">]><r>&x;</r>"#,
                #"<!DOCTYPE r [<!ENTITY % p SYSTEM "\#(server.baseURL)/p.dtd"> %p;]><r>&x;</r>"#,
                #"<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="\#(server.baseURL)/inc.xml"/></r>"#,
            ] {
                _ = try? XMLDocumentParser.parse(Array(document.utf8))
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test func billionLaughsIsRefusedBeforeAnyExpansion() {
        var document = #"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            document += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">"
        }
        document += "]><lolz>&lol9;</lolz>"
        let error = parseError(document)
        #expect(error?.message.contains("document type declarations are not accepted") == true, "\(error?.message ?? "")")
    }

    @Test func excessiveNestingIsAnErrorNotACrash() {
        let depth = 100_000
        let document = String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
        #expect(parseError(document) != nil)
    }

    // MARK: - Not XML, or not all of it

    @Test func truncatedDocumentReportsTheLine() {
        let error = parseError("<Response>\n  <ResponseHeader>\n    <ResponseCode>0</Resp")
        #expect(error?.line == 3)
        #expect(error?.message.hasPrefix("line 3:") == true, "\(error?.message ?? "")")
    }

    @Test func mismatchedTagsReportTheLine() {
        let error = parseError("<a>\n<b>\n</a>")
        #expect(error?.line == 3)
    }

    @Test func htmlErrorPageIsAnError() {
        let page = """
            <html><head><meta charset=utf-8><title>502 Bad Gateway</title></head>
            <body><h1>Bad Gateway</h1><br><p>The proxy server received an invalid response.</body></html>
            """
        #expect(parseError(page) != nil)
    }

    @Test func jsonIsAnError() {
        #expect(parseError(#"{"code":-1,"msg":"invalid appid"}"#) != nil)
    }

    @Test func emptyAndBlankBodiesAreErrors() {
        #expect(parseError([UInt8]())?.message.contains("empty") == true)
        #expect(parseError(" \n\t ") != nil)
        #expect(parseError("<?xml version=\"1.0\"?>") != nil)
        #expect(parseError("<!-- only a comment -->") != nil)
    }

    @Test func binaryGarbageIsAnError() {
        #expect(parseError([0x00, 0xFF, 0xFE, 0x3C, 0x00, 0x80]) != nil)
        #expect(parseError([0x1F, 0x8B, 0x08, 0x00] + Array(repeating: 0xAB, count: 100)) != nil)  // gzip bytes
    }

    @Test func trailingGarbageAfterTheRootIsAnError() {
        #expect(parseError("<a/><b/>") != nil)
    }

    @Test func inputOverTheLimitIsRefusedBeforeParsing() {
        let document = "<r>" + String(repeating: "x", count: 100) + "</r>"
        let error = parseError(document, maxBytes: 50)
        #expect(error?.message.contains("over the limit of 50 bytes") == true)
        #expect((try? parse(document, maxBytes: document.utf8.count)) != nil, "exactly at the limit is fine")
    }

    @Test func concurrentParsesShareNothing() async throws {
        let results = await withTaskGroup(of: (Int, String?).self) { group in
            for index in 0..<16 {
                group.addTask {
                    let document = index.isMultiple(of: 2) ? "<r><v>\(index)</v></r>" : "<r><v>\(index)</v>"
                    return (index, (try? XMLDocumentParser.parse(Array(document.utf8)))?.child("v")?.text)
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for index in 0..<16 {
            #expect(results[index] == (index.isMultiple(of: 2) ? "\(index)" : nil))
        }
    }

    // MARK: - Size

    /// A Dynadot-shaped `backorder_request_list` answer: 100,000 entries make about 16.9 MB.
    static func largeBackorderList(entries: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(entries * 200)
        out += Array("""
            <?xml version="1.0" encoding="UTF-8"?>
            <BackorderRequestListResponse><BackorderRequestListHeader><SuccessCode>0</SuccessCode>\
            <Status>success</Status></BackorderRequestListHeader><BackorderRequestListContent>
            <BackorderRequestList>

            """.utf8)
        for index in 0..<entries {
            out += Array(("<BackorderRequest><DomainName>name\(index).com</DomainName>"
                + "<CutoffTime>\(1_700_000_000_000 + index)</CutoffTime>"
                + "<BackorderRequestStatus>Active</BackorderRequestStatus></BackorderRequest>\n").utf8)
        }
        out += Array("</BackorderRequestList></BackorderRequestListContent></BackorderRequestListResponse>\n".utf8)
        return out
    }

    @Test func sixteenMegabyteListOfOneHundredThousandEntries() throws {
        let bytes = Self.largeBackorderList(entries: 100_000)
        #expect(bytes.count >= 16_000_000)
        let clock = ContinuousClock()
        var root: XMLElement?
        let elapsed = try clock.measure { root = try XMLDocumentParser.parse(bytes) }
        let entries = root?.path("BackorderRequestListContent", "BackorderRequestList")?
            .children(named: "BackorderRequest") ?? []
        #expect(entries.count == 100_000)
        #expect(entries.last?.child("DomainName")?.text == "name99999.com")
        #expect(entries.last?.child("CutoffTime")?.text == "1700000099999")
        print("XMLDocumentParser: \(bytes.count) bytes, \(entries.count) entries parsed in \(elapsed)")
    }

    @Test func truncatedLargeDocumentIsAnError() {
        let bytes = Self.largeBackorderList(entries: 20_000)
        let error = parseError(Array(bytes[..<(bytes.count / 2)]))
        #expect(error?.line != nil)
    }
}
