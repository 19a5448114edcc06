import Foundation

/// Which address DNSPod should mail the get-domain-back code to. In order: the item's own email (the input
/// knows the WHOIS address best), then `DNSPOD_EMAIL`, then — only if allowed — the first address DNSPod offers.
enum DNSPodEmailChoice: Sendable, Equatable {
    enum Source: Sendable, Equatable {
        case item, configured, offered
    }

    case use(String, from: Source)
    /// Allowed to ask `Domain.Acquire` for the addresses.
    case askDNSPod
    /// The item's email column holds something that is not an address. Not replaced by `DNSPOD_EMAIL`: the input
    /// meant a specific address for this domain.
    case invalid(String)
    case none

    static let noEmailMessage = "no email for DNSPod's get-domain-back: add an email column or set DNSPOD_EMAIL (or DNSPOD_EMAIL_AUTO=1 to use the first address DNSPod offers)"

    static func choose(for item: BackorderItem, config: DNSPodConfig) -> DNSPodEmailChoice {
        if let raw = item.attributes.email?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty {
            return isPlausible(raw) ? .use(raw, from: .item) : .invalid(raw)
        }
        if let configured = config.email { return .use(configured, from: .configured) }
        return config.emailAuto ? .askDNSPod : .none
    }

    /// The reason not to send at all, or nil when a send can go ahead.
    static func skipReason(for choice: DNSPodEmailChoice) -> String? {
        switch choice {
        case .use, .askDNSPod: nil
        case .none: noEmailMessage
        case .invalid(let raw): "the email given for this domain (\(masked(raw))) is not an email address; DNSPod's get-domain-back needs one"
        }
    }

    /// A sanity check, not RFC 5322: one `@`, something on both sides, a dot in the domain, printable ASCII
    /// or non-ASCII letters only, no list separators. DNSPod itself judges the rest (code 16).
    static func isPlausible(_ email: String) -> Bool {
        guard email.count <= 254 else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else {
            return false
        }
        return email.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value != 0x7F && !",;<>\"()[]\\".unicodeScalars.contains(scalar)
                && !(0x80...0x9F).contains(scalar.value)
        }
    }

    /// Enough to recognise the address in a message, not enough to harvest it: `a***@example.com`.
    static func masked(_ email: String) -> String {
        guard let at = email.lastIndex(of: "@") else { return "***" }
        let local = email[..<at]
        let domain = email[email.index(after: at)...]
        let shown = local.count >= 2 ? String(local.prefix(1)) : ""
        return "\(shown)***@\(domain.prefix(100))"
    }
}
