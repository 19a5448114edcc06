import Foundation

/// `GET /dom/back-order` read straight into entries by `JSONDecoder`, for `refresh`: the whole account's list
/// (100,000 orders are about 17 MB) without the Foundation object tree `JSONSerialization` builds first. Measured
/// on a 100,000-entry seed-shaped list (debug build, loaded 2-core machine, best of two runs): 0.53 s and the
/// peak memory 24 MB higher, against 0.76 s and 277 MB higher for `YayAnswer.parse`.
///
/// Lenient as `YayAnswer` is for the fields it reads (strings or numbers, `domain_name` or `domain`, entries
/// without a domain skipped); any other shape (an object `result`, a bare list, not JSON) makes it nil, and the
/// caller reads the answer with `YayAnswer.parse`, which knows every shape.
struct YayActiveList: Decodable {
    /// The envelope's `status_code`, when it has one.
    var statusCode: Int?
    var entries: [YayAnswer.Entry]

    static func decode(_ body: [UInt8]) -> YayActiveList? {
        try? JSONDecoder().decode(YayActiveList.self, from: Data(body))
    }

    private enum Keys: String, CodingKey { case result, status_code }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        statusCode = Lenient.int(c, .status_code)
        entries = try c.decode([Item].self, forKey: .result).compactMap(\.entry)
    }

    /// One list element; never fails, so one odd element does not lose the list.
    private struct Item: Decodable {
        var entry: YayAnswer.Entry?

        private enum Keys: String, CodingKey { case domain_name, domain, uuid, expires_on, created_on, updated_on }

        init(from decoder: any Decoder) throws {
            guard let c = try? decoder.container(keyedBy: Keys.self),
                  let domain = Lenient.text(c, .domain_name) ?? Lenient.text(c, .domain)
            else { return }
            entry = YayAnswer.Entry(
                domain: domain, uuid: Lenient.text(c, .uuid), expiresOn: Lenient.text(c, .expires_on),
                createdOn: Lenient.text(c, .created_on), updatedOn: Lenient.text(c, .updated_on))
        }
    }

    /// `ProviderText.jsonText`'s reading (a string or a number, trimmed, nil when empty) on a decoder container.
    private enum Lenient {
        static func text<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) -> String? {
            if let s = try? c.decodeIfPresent(String.self, forKey: key) { return ProviderText.jsonText(s) }
            if let i = try? c.decodeIfPresent(Int.self, forKey: key) { return String(i) }
            if let d = try? c.decodeIfPresent(Double.self, forKey: key) { return ProviderText.jsonText(d) }
            return nil
        }

        static func int<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) -> Int? {
            ProviderText.jsonInt(text(c, key))
        }
    }
}
