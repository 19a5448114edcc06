import Foundation

/// Yay.com's JSON envelope `{"result": ..., "status_code": ..., "status_message": ...}` as plain values.
///
/// Only the success shapes are documented, so the reader looks for the uuid and for error texts in every
/// place a REST API commonly puts them, and accepts numbers as strings and strings as numbers.
struct YayAnswer: Sendable, Equatable {
    /// One back-order of the account.
    struct Entry: Sendable, Equatable {
        var domain: String
        var uuid: String?
        var expiresOn: String?
        var createdOn: String?
        var updatedOn: String?
    }

    var statusCode: Int?
    var statusMessage: String?
    /// Error texts beyond the status message (`message`, `error`, `errors`, also inside `result`).
    var details: [String] = []
    /// The back-order's uuid: `result.uuid`, top-level `uuid`, `data.uuid`, or the first listed entry's.
    var uuid: String?
    /// `result` read as a list of back-orders (an empty object is an empty list); nil when it is neither.
    var entries: [Entry]?

    /// The status message and details, for a person.
    var message: String {
        let parts = ([statusMessage].compactMap { $0 } + details)
        return parts.isEmpty ? "" : parts.joined(separator: ": ")
    }

    /// Nil when the body is not JSON (an object, or a bare list of back-orders).
    static func parse(_ body: [UInt8]) -> YayAnswer? {
        guard let object = ProviderJSON.parse(body) else { return nil }
        if let list = object as? [Any] {
            let entries = list.compactMap { ($0 as? [String: Any]).flatMap(entry) }
            return YayAnswer(uuid: entries.first?.uuid, entries: entries)
        }
        guard let root = object as? [String: Any] else { return nil }
        var answer = YayAnswer(statusCode: int(root["status_code"]), statusMessage: text(root["status_message"]))
        answer.details = errorTexts(root)

        switch root["result"] {
        case let list as [Any]:
            answer.entries = list.compactMap { ($0 as? [String: Any]).flatMap(entry) }
        case let object as [String: Any]:
            answer.details += errorTexts(object)
            if let one = entry(object) {
                answer.entries = [one]
            } else if object.isEmpty {
                answer.entries = []
            }
            answer.uuid = text(object["uuid"])
        default:
            break
        }
        answer.uuid = answer.uuid ?? text(root["uuid"]) ?? (root["data"] as? [String: Any]).flatMap { text($0["uuid"]) }
            ?? answer.entries?.first?.uuid
        return answer
    }

    private static func entry(_ object: [String: Any]) -> Entry? {
        guard let domain = text(object["domain_name"]) ?? text(object["domain"]) else { return nil }
        return Entry(
            domain: domain, uuid: text(object["uuid"]), expiresOn: text(object["expires_on"]),
            createdOn: text(object["created_on"]), updatedOn: text(object["updated_on"]))
    }

    private static func errorTexts(_ object: [String: Any]) -> [String] {
        var out: [String] = []
        for key in ["message", "error", "error_message", "errors", "detail"] {
            out += flatten(object[key], label: nil)
        }
        return Array(out.prefix(5))
    }

    /// `"text"`, `["a", "b"]`, `{"field": ["a"]}` or `{"field": "a"}` as `field: a` lines.
    private static func flatten(_ value: Any?, label: String?) -> [String] {
        let prefix = label.map { "\($0): " } ?? ""
        switch value {
        case let list as [Any]:
            return list.flatMap { flatten($0, label: label) }
        case let object as [String: Any]:
            return object.keys.sorted().flatMap { flatten(object[$0], label: $0) }
        default:
            return text(value).map { [prefix + $0] } ?? []
        }
    }

    /// A string or number as trimmed text; nil for anything else or when empty.
    static func text(_ value: Any?) -> String? {
        ProviderText.jsonText(value)
    }

    static func int(_ value: Any?) -> Int? {
        ProviderText.jsonInt(value)
    }
}
