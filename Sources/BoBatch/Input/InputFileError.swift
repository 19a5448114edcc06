/// A whole input file cannot be used (missing, a directory, unreadable, binary, a `--column` it lacks).
/// The message names the path and what to do about it.
public struct InputFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { message }
}
