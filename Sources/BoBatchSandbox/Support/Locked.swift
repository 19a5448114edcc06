import Foundation

/// A value behind a lock. The sandbox's state changes are short and synchronous, so a lock is simpler than an
/// actor and lets request handlers read and write state without suspending between the check and the change.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
