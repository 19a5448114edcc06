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
