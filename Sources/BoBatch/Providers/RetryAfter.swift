import Foundation

/// Reads an HTTP `Retry-After` value: delay-seconds or an HTTP date. The only `Retry-After` parser in bo-batch:
/// `HTTPStatusReading` reads every provider's header through it.
public enum RetryAfter {
    public static func seconds(from value: String, now: Date = Date()) -> Double? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return min(seconds, 3600) }
        guard let date = HTTPDate.parse(trimmed) else { return nil }
        return min(max(0, date.timeIntervalSince(now)), 3600)
    }
}

/// Reads an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), as `Retry-After` and `Date` headers carry it.
enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }
}
