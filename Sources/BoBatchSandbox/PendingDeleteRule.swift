import Foundation

/// Which domains the sandbox's fakes treat as "pending delete" (dropping soon, so a backorder can be placed).
///
/// The one rule every fake uses, so sample lists can be written against it:
///
/// 1. The name is lowercased, surrounding spaces and one trailing dot are removed (``normalize(_:)``).
/// 2. It must be a syntactically valid ASCII host name: at least two labels, each 1...63 characters of
///    letters, digits and hyphens, not starting or ending with a hyphen, 253 characters at most, and a TLD that
///    is not all digits. Otherwise it is ``Verdict/invalidName`` (internationalised names must arrive as
///    `xn--` A-labels).
/// 3. Its TLD (the last label) must be in ``supportedTLDs``. Otherwise ``Verdict/unsupportedTLD``.
/// 4. If its first label starts with `taken` or `live` (for example `taken-example.com`, `livestream.net`), the
///    domain is registered and not dropping: ``Verdict/registered``.
/// 5. Everything else is ``Verdict/pendingDelete``.
///
/// `.tk` is supported by the backorder fakes; only DNSPod refuses it (its code 9), as the real one does.
public enum PendingDeleteRule {
    public enum Verdict: String, Sendable, Equatable, Codable {
        case pendingDelete
        case registered
        case unsupportedTLD
        case invalidName
    }

    public static let supportedTLDs: Set<String> = [
        "com", "net", "org", "info", "biz", "io", "co", "me", "xyz", "app", "dev", "online", "site", "shop",
        "store", "top", "cc", "tv", "us", "uk", "de", "fr", "nl", "eu", "ca", "au", "in", "cn", "tk",
        "ai", "club", "pro", "mobi", "name", "tech", "vip", "ws", "es", "it", "ch", "be", "at", "se", "jp",
    ]

    /// The registered-name prefixes of rule 4.
    public static let registeredPrefixes = ["taken", "live"]

    public static func normalize(_ domain: String) -> String {
        var name = domain.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }

    public static func verdict(for domain: String) -> Verdict {
        let name = normalize(domain)
        guard isValidHostName(name) else { return .invalidName }
        let labels = name.split(separator: ".")
        guard let tld = labels.last, supportedTLDs.contains(String(tld)) else { return .unsupportedTLD }
        if let first = labels.first, registeredPrefixes.contains(where: { first.hasPrefix($0) }) { return .registered }
        return .pendingDelete
    }

    public static func isPendingDelete(_ domain: String) -> Bool {
        verdict(for: domain) == .pendingDelete
    }

    static func isValidHostName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count) else { return false }
            guard bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
            for byte in bytes {
                let ok = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-")
                guard ok else { return false }
            }
        }
        return !labels.last!.allSatisfy(\.isNumber)
    }

    /// When a pending-delete domain drops in the sandbox's world: between one and five days after the start of
    /// the current UTC day, at a minute derived from the name. Every fake reports the same moment (Dynadot's
    /// `CutoffTime`, Gname's `scsj`, Yay's `expires_on`).
    public static func dropTime(for domain: String, now: Date = Date()) -> Date {
        let name = normalize(domain)
        let hash = StableRandom.mix(StableRandom.hash(name))
        let dayStart = (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        let days = Double(1 + hash % 5)
        let minutes = Double((hash >> 8) % (24 * 60))
        return Date(timeIntervalSince1970: dayStart + days * 86_400 + minutes * 60)
    }
}

enum SandboxDates {
    static func utcDate(_ date: Date) -> String { format(date, "yyyy-MM-dd") }
    static func utcDateTime(_ date: Date) -> String { format(date, "yyyy-MM-dd HH:mm:ss") }

    /// China Standard Time, the clock of Gname and DNSPod.
    static func chinaDateTime(_ date: Date) -> String { format(date, "yyyy-MM-dd HH:mm:ss", offsetHours: 8) }
    static func chinaDate(_ date: Date) -> String { format(date, "yyyy-MM-dd", offsetHours: 8) }

    static func format(_ date: Date, _ pattern: String, offsetHours: Int = 0) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: offsetHours * 3600)
        formatter.dateFormat = pattern
        return formatter.string(from: date)
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-M-d"
        return formatter.date(from: text)
    }
}
