/// What `YayProvider.cancel(uuid:)` did.
public enum YayCancelResult: Sendable, Equatable {
    case cancelled
    /// Yay.com holds no back-order with that uuid (already cancelled, or never placed).
    case notFound
    case failed(reason: String)
    case halt(reason: String, fix: String)
}
