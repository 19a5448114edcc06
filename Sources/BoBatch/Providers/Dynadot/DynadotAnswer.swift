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
        return (answer, root)
    }

    /// Domains listed in a `backorder_request_list` answer.
    static func listedDomains(in root: XMLElement) -> [(domain: String, status: String)] {
        root.descendants(named: "BackorderRequest").compactMap { entry in
            guard let name = entry.child("DomainName")?.text ?? entry.child("Domain")?.text, !name.isEmpty else { return nil }
            return (name, entry.child("BackorderRequestStatus")?.text ?? "")
        }
    }
}
