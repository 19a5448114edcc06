/// A registrable domain name in its normalized ASCII form (lowercase, A-labels, no trailing dot).
/// The only way to make one from user text is `init(normalizing:)`, so holding one means it is valid.
public struct DomainName: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let ascii: String

    /// For names that were validated before (read back from the ledger). Not for user input.
    public init(validatedASCII: String) {
        self.ascii = validatedASCII
    }

    public init(normalizing text: String) throws(DomainNameError) {
        self.ascii = try DomainNameNormalizer.normalize(text)
    }

    public var description: String { ascii }
    public var tld: Substring { ascii[ascii.index(after: ascii.lastIndex(of: ".") ?? ascii.startIndex)...] }
    public static func < (lhs: DomainName, rhs: DomainName) -> Bool { lhs.ascii < rhs.ascii }
}

/// Why a piece of text is not a registrable domain name, in words a person can act on.
public struct DomainNameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
