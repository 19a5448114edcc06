import Foundation

/// 1API processes backorders only if they exist some hours before the registry's deletion batch (seed 003:
/// three). Sending later costs a request and fails silently at drop time, so such domains are skipped instead.
struct OneAPICutoff: Sendable, Equatable {
    var hours: Double

    /// The reason to skip, when the drop time is known and `now` is past the cutoff. Exactly at the cutoff is
    /// still in time ("at least three hours prior").
    func skipReason(dropTime: Date?, now: Date) -> String? {
        guard let dropTime else { return nil }
        let cutoff = dropTime.addingTimeInterval(-hours * 3600)
        guard now > cutoff else { return nil }
        let drop = Self.utc(dropTime)
        let cut = Self.utc(cutoff)
        let cutText = cut.day == drop.day ? cut.time : "\(cut.day) \(cut.time)"
        return "past 1API's cutoff: backorders must be placed \(Self.hoursText(hours)) before the deletion batch (drop \(drop.day) \(drop.time) UTC, cutoff \(cutText) UTC)"
    }

    static func hoursText(_ hours: Double) -> String {
        let number = hours == hours.rounded() ? String(Int(hours)) : String(format: "%g", hours)
        return hours == 1 ? "1 hour" : "\(number) hours"
    }

    /// Fixed Gregorian UTC fields, independent of the machine's locale and time zone.
    private static func utc(_ date: Date) -> (day: String, time: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return (
            String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0),
            String(format: "%02d:%02d", c.hour ?? 0, c.minute ?? 0)
        )
    }
}
