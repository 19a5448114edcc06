/// Where a record came from, for messages a person can follow back to the file.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The path as given; standard input shows as "stdin".
    public var file: String
    /// 1-based line where the record starts (a quoted field can carry it over several lines).
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}

/// One record of an input file: a domain to normalize, or a line that could not be read as one.
public enum InputItem: Sendable, Hashable {
    /// `text` is the raw field, trimmed of ASCII spaces but not yet normalized.
    case domain(text: String, location: SourceLocation, attributes: DomainAttributes)
    /// `text` is a printable excerpt of the line (control bytes escaped, about 200 characters at most).
    case problem(location: SourceLocation, text: String, reason: String)

    public var location: SourceLocation {
        switch self {
        case .domain(_, let location, _), .problem(let location, _, _): location
        }
    }
}
