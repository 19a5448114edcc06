import Foundation

/// Gname's JSON envelope `{"code": ..., "msg": ..., "data": ...}` as plain values.
///
/// Gname is PHP: numbers arrive as strings and strings as numbers depending on the endpoint, and an empty
/// `data` is `""`, `[]` or `null`. Everything is read tolerantly here so the classifier sees one shape.
struct GnameAnswer: Sendable, Equatable {
    /// One domain's line in a bulk answer's `data.ok` or `data.err`.
    struct BulkItem: Sendable, Equatable {
        var domain: String
        /// True when Gname listed it under `ok`.
        var listedOK: Bool
        var code: Int?
        var message: String
        var dataText: String?
    }

    var code: Int?
    var message: String
    /// `data` when it is a string or a number (the deposit frozen by `/add`); nil when empty.
    var dataText: String?
    /// `data` when it describes one backorder (`/info`).
    var info: GnameBackorderStatus?
    /// `data.ok` + `data.err` (`/bulk`); nil when `data` carries neither list.
    var bulkItems: [BulkItem]?

    /// Nil when the body is not a JSON object carrying `code` or `msg`.
    static func parse(_ body: [UInt8]) -> GnameAnswer? {
        guard let object = ProviderJSON.parse(body),
            let root = object as? [String: Any]
        else { return nil }
        let code = int(root["code"])
        let message = text(root["msg"]) ?? text(root["message"])
        guard code != nil || message != nil else { return nil }

        var answer = GnameAnswer(code: code, message: message ?? "")
        switch root["data"] {
        case let object as [String: Any]:
            answer.read(object)
        case let array as [Any]:
            // PHP encodes an empty or list-shaped record as an array; a one-element list is the record itself.
            if array.count == 1, let object = array[0] as? [String: Any] { answer.read(object) }
        case let value:
            answer.dataText = text(value)
        }
        return answer
    }

    private mutating func read(_ data: [String: Any]) {
        if data["ok"] != nil || data["err"] != nil {
            bulkItems = Self.bulkItems(data["ok"], listedOK: true) + Self.bulkItems(data["err"], listedOK: false)
        } else if data["id"] != nil || data["ym"] != nil || data["zt"] != nil {
            info = Self.status(data)
        }
    }

    private static func bulkItems(_ value: Any?, listedOK: Bool) -> [BulkItem] {
        let list: [Any]
        switch value {
        case let array as [Any]: list = array
        // A PHP array with non-sequential keys encodes as an object.
        case let object as [String: Any]: list = object.keys.sorted().map { object[$0]! }
        default: return []
        }
        return list.compactMap { element in
            if let name = text(element) {
                return BulkItem(domain: name, listedOK: listedOK, code: nil, message: "")
            }
            guard let object = element as? [String: Any], let name = text(object["ym"]) ?? text(object["domain"]) else { return nil }
            return BulkItem(
                domain: name, listedOK: listedOK, code: int(object["code"]),
                message: text(object["msg"]) ?? text(object["message"]) ?? "", dataText: text(object["data"]))
        }
    }

    private static func status(_ data: [String: Any]) -> GnameBackorderStatus {
        let zt = int(data["zt"])
        let sclx = int(data["sclx"])
        return GnameBackorderStatus(
            id: text(data["id"]) ?? "",
            domain: text(data["ym"]) ?? "",
            phase: GnameBackorderStatus.Phase(code: zt),
            phaseText: text(data["ztstr"]),
            deletionTypeCode: sclx,
            deletionType: text(data["sclxstr"]) ?? sclx.flatMap(GnameBackorderStatus.deletionTypeName),
            channel: text(data["td"]),
            budget: text(data["qian"]),
            frozen: text(data["dqian"]),
            placedAt: text(data["sj"]),
            deletionDate: text(data["scsj"]))
    }

    /// A string or number as trimmed text; nil for anything else or when empty.
    static func text(_ value: Any?) -> String? {
        ProviderText.jsonText(value)
    }

    /// An integer given as a number or as text (`1`, `"1"`, `"-2"`, `1.0`).
    static func int(_ value: Any?) -> Int? {
        ProviderText.jsonInt(value)
    }
}
