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
}
