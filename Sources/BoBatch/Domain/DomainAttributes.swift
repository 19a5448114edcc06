import Foundation

/// Per-domain facts from the input that some providers need (a drop time for 1API's cutoff, an email for DNSPod).
public struct DomainAttributes: Sendable, Codable, Hashable {
    /// When the registry deletes the domain, if the input said.
    public var dropTime: Date?
    /// The WHOIS email DNSPod should mail the code to, if the input said.
    public var email: String?

    public init(dropTime: Date? = nil, email: String? = nil) {
        self.dropTime = dropTime
        self.email = email
    }
}
