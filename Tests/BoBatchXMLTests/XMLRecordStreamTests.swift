import BoBatchXML
import Foundation
import Testing

/// `XMLDocumentParser.stream`: whole-account lists handed over one record at a time, never kept as a tree.
@Suite struct XMLRecordStreamTests {
    static let list = """
        <?xml version="1.0" encoding="UTF-8"?>
        <BackorderRequestListResponse>
          <BackorderRequestListHeader><SuccessCode>0</SuccessCode><Status>success</Status></BackorderRequestListHeader>
          <BackorderRequestListContent><BackorderRequestList>
            <BackorderRequest><DomainName>testdrop.com</DomainName><CutoffTime>1403914140000</CutoffTime></BackorderRequest>
            <BackorderRequest><DomainName>testdrop3.com</DomainName><CutoffTime>1403914140001</CutoffTime></BackorderRequest>
            <BackorderRequest/>
          </BackorderRequestList></BackorderRequestListContent>
        </BackorderRequestListResponse>
        """

    @Test func recordsGoToTheVisitorAndTheRestIsTheTree() throws {
        var seen: [XMLElement] = []
        let root = try XMLDocumentParser.stream(Array(Self.list.utf8), records: ["BackorderRequest"]) { seen.append($0) }
        #expect(seen.map { $0.child("DomainName")?.text } == ["testdrop.com", "testdrop3.com", nil])
        #expect(seen[1].child("CutoffTime")?.text == "1403914140001")
        #expect(root.path("BackorderRequestListHeader", "SuccessCode")?.text == "0")
        #expect(root.path("BackorderRequestListContent", "BackorderRequestList")?.children.isEmpty == true)
        // The same document parsed whole keeps them in the tree.
        let whole = try XMLDocumentParser.parse(Array(Self.list.utf8))
        #expect(whole.descendants(named: "BackorderRequest").count == 3)
    }

    @Test func aRecordInsideARecordBelongsToTheOuterOne() throws {
        let text = "<R><A><B>1</B><A><B>2</B></A></A><A><B>3</B></A></R>"
        var seen: [XMLElement] = []
        _ = try XMLDocumentParser.stream(Array(text.utf8), records: ["A"]) { seen.append($0) }
        #expect(seen.count == 2)
        #expect(seen[0].child("A")?.child("B")?.text == "2")
        #expect(seen[1].child("B")?.text == "3")
    }

    @Test func aRootNamedAsARecordIsTheRoot() throws {
        var seen = 0
        let root = try XMLDocumentParser.stream(Array("<A><B>1</B></A>".utf8), records: ["A"]) { _ in seen += 1 }
        #expect(seen == 0)
        #expect(root.child("B")?.text == "1")
    }

    @Test func aCutDocumentStillFailsAfterSomeRecordsWereSeen() {
        let cut = Self.list.components(separatedBy: "<BackorderRequest/>")[0]
        var seen = 0
        #expect(throws: XMLParseError.self) {
            _ = try XMLDocumentParser.stream(Array(cut.utf8), records: ["BackorderRequest"]) { _ in seen += 1 }
        }
        #expect(seen == 2)
    }

    @Test func theHardeningIsTheSame() {
        let doctype = "<?xml version=\"1.0\"?><!DOCTYPE R [<!ENTITY x \"y\">]><R><A>&x;</A></R>"
        #expect(throws: XMLParseError.self) {
            _ = try XMLDocumentParser.stream(Array(doctype.utf8), records: ["A"]) { _ in }
        }
        #expect(throws: XMLParseError.self) {
            _ = try XMLDocumentParser.stream(Array("<R></R>".utf8), maxBytes: 4, records: ["A"]) { _ in }
        }
    }

    /// An answer kept in a file (a whole-account list written there as it arrived) reads the same, with the same
    /// refusals; a prologue that outlasts the first 64 KiB is refused rather than read unchecked.
    @Test func aDocumentInAFileReadsTheSameAndIsHardenedTheSame() throws {
        func file(_ text: String) throws -> Int32 {
            var template = Array((NSTemporaryDirectory() + "/bo-batch-xml-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            try #require(fd >= 0)
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
            return fd
        }
        let list = try file(Self.list)
        defer { close(list) }
        for _ in 0..<2 {  // read twice from the one file, as the auction listings are
            var seen: [XMLElement] = []
            let root = try XMLDocumentParser.stream(file: list, records: ["BackorderRequest"]) { seen.append($0) }
            #expect(seen.map { $0.child("DomainName")?.text } == ["testdrop.com", "testdrop3.com", nil])
            #expect(root.path("BackorderRequestListHeader", "SuccessCode")?.text == "0")
        }
        let doctype = try file("<?xml version=\"1.0\"?><!DOCTYPE R [<!ENTITY x \"y\">]><R><A>&x;</A></R>")
        defer { close(doctype) }
        #expect(throws: XMLParseError.self) { _ = try XMLDocumentParser.stream(file: doctype, records: ["A"]) { _ in } }
        let long = try file("<!--" + String(repeating: "x", count: 70_000) + "--><!DOCTYPE R [<!ENTITY x \"y\">]><R>&x;</R>")
        defer { close(long) }
        #expect(throws: XMLParseError.self) { _ = try XMLDocumentParser.stream(file: long, records: ["A"]) { _ in } }
        let over = try file("<R></R>")
        defer { close(over) }
        #expect(throws: XMLParseError.self) { _ = try XMLDocumentParser.stream(file: over, maxBytes: 4, records: ["A"]) { _ in } }
        let cut = try file(Self.list.components(separatedBy: "<BackorderRequest/>")[0])
        defer { close(cut) }
        #expect(throws: XMLParseError.self) { _ = try XMLDocumentParser.stream(file: cut, records: ["BackorderRequest"]) { _ in } }
    }
}
