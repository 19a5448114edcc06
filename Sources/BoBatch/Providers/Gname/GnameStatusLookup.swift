/// What `GnameProvider.status(of:)` learned about one domain.
public enum GnameStatusLookup: Sendable, Equatable {
    case found(GnameBackorderStatus)
    /// Gname holds no backorder for it on this account; `message` is Gname's wording.
    case absent(message: String)
    /// The question got no usable answer this time.
    case unavailable(reason: String)
    /// The account cannot be used (credentials, IP, clock).
    case halt(reason: String, fix: String)
}
