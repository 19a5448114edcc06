import BoBatchHTTP

/// Why a 1API helper call (`status`, `delete`) did not give an answer. `message` is safe to show: no password.
public struct OneAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The application id is empty or holds characters no id can have; nothing was sent.
        case invalidApplicationID
        case transport(TransportError.Kind)
        /// The HTTP status was not 2xx.
        case http(Int)
        /// The body was not an ISPAPI answer with a CODE, or it was cut short (no closing EOF line).
        case invalidAnswer
        /// ISPAPI answered with a non-2xx CODE (545: no such application; 530/531: credentials).
        case code(Int)
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
