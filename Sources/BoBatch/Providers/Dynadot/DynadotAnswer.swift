import Foundation
import BoBatchXML

/// The parts of an api3.xml answer that decide an outcome. Dynadot's field names drift between versions
/// (`SuccessCode` or `ResponseCode`, as text or number; `DomainName` or `Domain`), so this reads them all.
struct DynadotAnswer: Equatable {
    /// The root element's name (`AddBackorderRequestResponse`, `Response`, ...).
    var root: String
    /// `SuccessCode` or `ResponseCode`; nil when the header carries neither.
    var code: Int?
    var status: String?
    var error: String?
    /// `ResponseMsg` (is_processing says yes/no there).
    var message: String?

    var succeeded: Bool { code == 0 || (code == nil && status?.lowercased() == "success") }

    static func parse(_ body: [UInt8]) throws(XMLParseError) -> (DynadotAnswer, XMLElement) {
        let root = try XMLDocumentParser.parse(body)
        return (header(of: root), root)
    }

    /// The header of an answer that lists the whole account (100,000 requests, megabytes): each element named in
    /// `records` goes to `visit` as the reader passes it, and only the header is kept. Act on what `visit` saw
    /// only after this returns (a document cut short fails here, after some records were seen).
    static func stream(_ body: [UInt8], maxBytes: Int, records: Set<String>, visit: (XMLElement) -> Void) throws(XMLParseError) -> DynadotAnswer {
        header(of: try XMLDocumentParser.stream(body, maxBytes: maxBytes, records: records, visit: visit))
    }

    /// The same for an answer kept in a file (``DynadotListingBody``).
    static func stream(file descriptor: Int32, maxBytes: Int, records: Set<String>, visit: (XMLElement) -> Void) throws(XMLParseError) -> DynadotAnswer {
        header(of: try XMLDocumentParser.stream(file: descriptor, maxBytes: maxBytes, records: records, visit: visit))
    }

    private static func header(of root: XMLElement) -> DynadotAnswer {
        // The header is the first child whose name ends in "Header"; some answers put the fields at the root.
        let header = root.children.first { $0.name.hasSuffix("Header") } ?? root
        func field(_ names: String...) -> String? {
            for name in names {
                if let value = header.child(name)?.text ?? root.child(name)?.text { return value }
            }
            return nil
        }
        let codeText = field("SuccessCode", "ResponseCode")
        let answer = DynadotAnswer(
            root: root.name,
            code: codeText.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) },
            status: field("Status"),
            error: field("Error"),
            message: field("ResponseMsg")
        )
        return answer
    }
}
