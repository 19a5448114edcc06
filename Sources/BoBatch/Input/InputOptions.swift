/// How to read one input file. The defaults detect everything; the options exist for files that defeat detection.
public struct InputOptions: Sendable, Hashable {
    /// The CSV field separator; `nil` detects `,` `;` or tab from the first data line (none found: one domain per line).
    public var delimiter: UInt8?
    /// The domain column: a header name (case-insensitive) or a 1-based number. `nil`: a header named like
    /// `domain`, else the first column.
    public var column: String?
    /// A record longer than this is reported as a problem and skipped, never held in memory.
    public var maxLineBytes: Int
    /// In a zip archive, the one member to read (its path in the archive, or just its file name); `nil`: every
    /// member that is text. Files that are not zip archives are read whole either way.
    public var member: String?

    public init(delimiter: UInt8? = nil, column: String? = nil, maxLineBytes: Int = 64 * 1024, member: String? = nil) {
        self.delimiter = delimiter
        self.column = column
        self.maxLineBytes = maxLineBytes
        self.member = member
    }
}
