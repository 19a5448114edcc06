import Foundation
import Testing
@testable import BoBatch

@Suite("DropDateParser")
struct DropDateParserTests {
    private static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
    }

    @Test("accepts the shapes drop lists use", arguments: [
        ("2025-10-27", utc(2025, 10, 27)),
        ("2025-10-27 18:00", utc(2025, 10, 27, 18)),
        ("2025-10-27T18:00:00Z", utc(2025, 10, 27, 18)),
        ("2025-10-27 18:00:00 UTC", utc(2025, 10, 27, 18)),
        ("2025-10-27T18:00:05.250Z", utc(2025, 10, 27, 18, 0, 5)),
        ("2025-10-27T20:00:00+02:00", utc(2025, 10, 27, 18)),
        ("2025-10-27 13:00 -0500", utc(2025, 10, 27, 18)),
        ("10/27/2025", utc(2025, 10, 27)),
        ("1/2/2026 7:05", utc(2026, 1, 2, 7, 5)),
        ("2024-02-29", utc(2024, 2, 29)),
        ("1761588000", Date(timeIntervalSince1970: 1_761_588_000)),
        (" 2025-10-27 ", utc(2025, 10, 27)),
    ])
    func accepts(text: String, expected: Date) {
        #expect(DropDateParser.parse(text) == expected)
    }

    @Test("rejects what is not a date", arguments: [
        "", "2025", "12", "Pending Delete", "2025-13-01", "2025-02-30", "2023-02-29", "27/10/2025", "2025-10-27 25:00",
        "2025-10-27 18:00 PST", "2025-10-27x", "10/27/25", "example.com", "99999999999999",
    ])
    func rejects(text: String) {
        #expect(DropDateParser.parse(text) == nil)
    }
}
