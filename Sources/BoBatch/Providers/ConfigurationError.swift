import Foundation

/// A setting that is missing, malformed or unsafe; `message` names the variable and the fix.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
