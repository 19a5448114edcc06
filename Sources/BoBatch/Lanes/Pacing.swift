import Foundation

/// How hard one lane may push one provider account.
public struct Pacing: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Requests in flight at once.
    public var concurrency: Int
    /// Request starts per minute, across all of the lane's workers.
    public var requestsPerMinute: Double

    public init(concurrency: Int, requestsPerMinute: Double) {
        self.concurrency = concurrency
        self.requestsPerMinute = requestsPerMinute
    }

    public var description: String {
        "\(concurrency) at a time, \(requestsPerMinute.formatted(.number.precision(.fractionLength(0...1))))/min"
    }

    /// Applies `<PREFIX>_THREADS` and `<PREFIX>_RATE` (requests per minute) from the environment.
    public func overridden(by env: [String: String], prefix: String) throws(ConfigurationError) -> Pacing {
        var result = self
        if let raw = env["\(prefix)_THREADS"] {
            guard let n = Int(raw.trimmingCharacters(in: .whitespaces)), (1...64).contains(n) else {
                throw ConfigurationError("\(prefix)_THREADS=\(raw) is not a whole number from 1 to 64")
            }
            result.concurrency = n
        }
        if let raw = env["\(prefix)_RATE"] {
            guard let r = Double(raw.trimmingCharacters(in: .whitespaces)), r > 0, r <= 1_000_000 else {
                throw ConfigurationError("\(prefix)_RATE=\(raw) is not a number of requests per minute above 0")
            }
            result.requestsPerMinute = r
        }
        return result
    }
}
