import Foundation

/// How far ahead of real time the sandbox runs, written as a person types it: `+2d`, `+36h`, `+90m`, `+1d12h`,
/// `+45s` (the `+` may be left out). It is the clock's offset from real time, not a step: `--sandbox-time +2d`
/// twice leaves the sandbox two days ahead, so a rerun after a crash does not push the clock further.
///
/// Read by `bo-batch sandbox --time`, `refresh --sandbox --sandbox-time` and `PUT /_sandbox/clock`
/// (`{"offset": "+2d"}`). The clock never moves back, so a minus sign is refused with that reason.
public struct SandboxTimeOffset: Sendable, Equatable, CustomStringConvertible {
    public var seconds: TimeInterval

    /// Ten years: far past any drop, and far from overflowing a date.
    public static let maximumSeconds: TimeInterval = 3650 * 86_400

    public init(seconds: TimeInterval) { self.seconds = seconds }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    private static let units: [(letter: Character, seconds: TimeInterval)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
    private static let example = "write it as a number and a unit (d days, h hours, m minutes, s seconds), e.g. +2d, +36h, +90m, +1d12h"

    /// Reads `text`; the error says what is wrong with it in words a person can act on.
    public static func parse(_ text: String) throws(ParseError) -> SandboxTimeOffset {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        func fail(_ why: String) -> ParseError { ParseError(message: "sandbox time '\(text)': \(why)") }
        var rest = Substring(trimmed)
        if rest.first == "-" || rest.first == "\u{2212}" {
            throw fail("the sandbox clock only moves forward, so the offset cannot be negative")
        }
        if rest.first == "+" { rest = rest.dropFirst() }
        guard !rest.isEmpty else { throw fail("it is empty; " + example) }

        var total: TimeInterval = 0
        var lastUnit = -1
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty else {
                throw fail("'\(rest.first!)' is not where a number belongs; " + example)
            }
            guard digits.count <= 9, let amount = Int(digits) else { throw fail("\(digits) is too large") }
            rest = rest.dropFirst(digits.count)
            guard let letter = rest.first else {
                throw fail("\(digits) has no unit; " + example)
            }
            guard let index = units.firstIndex(where: { $0.letter == Character(letter.lowercased()) }) else {
                throw fail("'\(letter)' is not a unit; " + example)
            }
            guard index > lastUnit else {
                throw fail("units go from the largest to the smallest, each once (d, then h, then m, then s)")
            }
            lastUnit = index
            total += TimeInterval(amount) * units[index].seconds
            rest = rest.dropFirst()
        }
        guard total <= maximumSeconds else { throw fail("more than 3650 days ahead is not a useful sandbox time") }
        return SandboxTimeOffset(seconds: total)
    }

    /// `+1d12h`, `+0s`: the shortest text ``parse(_:)`` reads back as the same whole seconds.
    public var description: String {
        var left = Int(seconds.rounded(.down))
        guard left > 0 else { return "+0s" }
        var out = "+"
        for unit in Self.units {
            let size = Int(unit.seconds)
            if left >= size {
                out += "\(left / size)\(unit.letter)"
                left %= size
            }
        }
        return out
    }
}
