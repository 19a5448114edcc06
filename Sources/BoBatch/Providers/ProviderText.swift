import BoBatchHTTP
import Foundation

/// Rules every provider applies to what it reads back, kept in one place so they cannot drift apart.
enum ProviderText {
    /// The longest message kept, in characters (an ellipsis marks the cut).
    static let maxLength = 500

    /// Makes provider text safe for a one-line message: no secrets (plain or percent-encoded), no control
    /// characters, bounded length. Cleaning twice changes nothing.
    ///
    /// The one cleaning function: `RedactingProvider` passes everything a provider returns through it, and the
    /// providers' helpers outside the `Provider` protocol (Gname's `status(of:)`, Yay's `cancel`, 1API's
    /// `status`/`delete`) call it for what they return.
    static func clean(_ text: String, secrets: [String]) -> String {
        // Nearly every message is already clean (a verdict text, a uuid): printable ASCII, single spaces, short,
        // no secret. Such text is returned as it is, without the scalar-by-scalar rebuild below, which costs
        // microseconds per message and runs for every domain's verdict.
        if isCleanPlainLine(text, secrets: secrets) { return text }
        return rebuild(text, secrets: secrets)
    }

    /// The general cleaning: redact, collapse whitespace and control characters, trim, cut, redact again.
    static func rebuild(_ text: String, secrets: [String]) -> String {
        let redacted = redact(text, secrets: secrets)
        var out = ""
        var lastWasSpace = false
        for scalar in redacted.unicodeScalars {
            if CharacterSet.whitespacesAndNewlines.contains(scalar) || CharacterSet.controlCharacters.contains(scalar) {
                if !lastWasSpace, !out.isEmpty { out.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        out = out.trimmingCharacters(in: .whitespaces)
        if out.count > maxLength { out = String(out.prefix(maxLength)) + "…" }
        // Collapsing whitespace can join text around a secret; redacting again closes that gap.
        return redact(out, secrets: secrets)
    }

    /// True when `clean` would return `text` unchanged because there is nothing to clean: only printable ASCII
    /// and single spaces, none at either end, at most `maxLength` characters, and no secret in any of its forms
    /// (``secretForms(_:)``). (Whitespace and control characters are ASCII's 0x00-0x20 and 0x7F, all excluded but
    /// the inner single space, so collapsing, trimming and cutting change nothing, and redacting finds nothing.)
    static func isCleanPlainLine(_ text: String, secrets: [String]) -> Bool {
        var text = text
        let plain = text.withUTF8 { bytes -> Bool in
            guard bytes.count <= maxLength, let first = bytes.first, let last = bytes.last, first != 0x20, last != 0x20 else {
                return bytes.isEmpty
            }
            var previous: UInt8 = 0
            for byte in bytes {
                guard byte >= 0x20, byte < 0x7F, !(byte == 0x20 && previous == 0x20) else { return false }
                previous = byte
            }
            for secret in secrets where !secret.isEmpty {
                for form in secretForms(secret) where contains(bytes, form) { return false }
            }
            return true
        }
        return plain
    }

    /// Whether `needle`'s UTF-8 bytes occur in `haystack` (a plain byte search: no Unicode equivalence, which
    /// is what `redact` matches too for the ASCII text this is asked about).
    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { n -> Bool in
            guard let head = n.first, n.count <= haystack.count else { return false }
            var i = 0
            let lastStart = haystack.count - n.count
            while i <= lastStart {
                if haystack[i] == head {
                    var j = 1
                    while j < n.count, haystack[i + j] == n[j] { j += 1 }
                    if j == n.count { return true }
                }
                i += 1
            }
            return false
        }
    }

    /// A JSON string or number as trimmed text; nil for anything else or when empty. Providers send numbers as
    /// strings and strings as numbers, sometimes in the same answer.
    static func jsonText(_ value: Any?) -> String? {
        let raw: String
        switch value {
        case let s as String: raw = s
        case let i as Int: raw = String(i)
        case let d as Double: raw = d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case let n as NSNumber: raw = n.stringValue
        default: return nil
        }
        // Nearly every value has nothing to trim, and Foundation's trimming costs more than the rest of the read.
        func isPlain(_ byte: UInt8?) -> Bool { byte.map { $0 > 32 && $0 < 128 } ?? false }
        if isPlain(raw.utf8.first), isPlain(raw.utf8.last) { return raw }
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// An integer given as a number or as text (`1`, `"1"`, `"-2"`, `1.0`).
    static func jsonInt(_ value: Any?) -> Int? {
        guard let t = jsonText(value) else { return nil }
        if let i = Int(t) { return i }
        if let d = Double(t), d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }
}

extension SubmitResult {
    /// The same result with every string (reasons, messages, fixes, references) passed through `transform`
    /// (`RedactingProvider` cleans everything a provider returns this way, in one place).
    func mapText(_ transform: (String) -> String) -> SubmitResult {
        switch self {
        case .settled(let verdicts): .settled(verdicts.mapValues { $0.mapText(transform) })
        case .refused(let reason, let wait): .refused(reason: transform(reason), retryAfterSeconds: wait)
        case .maybeProcessed(let reason): .maybeProcessed(reason: transform(reason))
        case .batchFailed(let reason, let verdict): .batchFailed(reason: transform(reason), verdictIfAlone: verdict.mapText(transform))
        case .halt(let reason, let fix): .halt(reason: transform(reason), fix: transform(fix))
        }
    }
}

extension Verdict {
    func mapText(_ transform: (String) -> String) -> Verdict {
        switch self {
        case .accepted(let reference, let message): .accepted(reference: reference.map(transform), message: transform(message))
        case .already(let reference, let message): .already(reference: reference.map(transform), message: transform(message))
        case .rejected(let message): .rejected(message: transform(message))
        case .skipped(let message): .skipped(message: transform(message))
        }
    }
}

extension LookupResult {
    /// The same result with every string (references included) passed through `transform`.
    func mapText(_ transform: (String) -> String) -> LookupResult {
        switch self {
        case .found(let held): .found(held.mapValues { $0.isEmpty ? $0 : transform($0) })
        case .unavailable(let reason): .unavailable(reason: transform(reason))
        case .unsupported(let reason): .unsupported(reason: transform(reason))
        case .halt(let reason, let fix): .halt(reason: transform(reason), fix: transform(fix))
        }
    }
}

extension BusyState {
    func mapText(_ transform: (String) -> String) -> BusyState {
        switch self {
        case .idle, .busy: self
        case .unavailable(let reason): .unavailable(reason: transform(reason))
        }
    }
}
