import CIDN2
import Foundation

/// Turns user text into the normalized ASCII form of a domain name, or says why it cannot.
///
/// Plain ASCII names are checked here without libidn2 (the common case, a million times a run);
/// anything non-ASCII, and any `xn--` label, goes through libidn2 (UTS#46, non-transitional), whose
/// output is then held to the same LDH rules.
enum DomainNameNormalizer {
    static let maxNameLength = 253
    static let maxLabelLength = 63
    /// Longer UTF-8 than this cannot map to 253 octets; rejecting it early keeps hostile input
    /// (megabyte lines) away from trimming copies and from libidn2.
    static let maxInputBytes = 1024
    /// Above this we do not even trim: no amount of surrounding whitespace makes it a name.
    static let maxUntrimmedBytes = 16 * 1024

    static func normalize(_ text: String) throws(DomainNameError) -> String {
        if let plain = plainLDH(text) { return plain }
        let rawCount = text.utf8.count
        if rawCount > maxUntrimmedBytes { throw tooLong(rawCount) }
        let scalars = trimmed(text.unicodeScalars)
        if scalars.isEmpty { throw DomainNameError("empty: no domain name") }

        var isASCII = true
        var byteCount = 0
        for scalar in scalars {
            if scalar.value >= 0x80 { isASCII = false }
            byteCount += UTF8.width(scalar)
        }
        if byteCount > maxInputBytes { throw tooLong(byteCount) }

        if isASCII {
            var bytes = [UInt8]()
            bytes.reserveCapacity(byteCount)
            for scalar in scalars { bytes.append(lowercasedASCII(UInt8(scalar.value))) }
            try checkCharacters(bytes)
            if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
            // libidn2 only has something to say about A-labels; pure LDH needs no round trip through C.
            let needsIDNA = hasALabel(bytes)
            if needsIDNA {
                bytes = try idnaToASCII(String(decoding: bytes, as: UTF8.self))
            }
            try validateLDH(bytes)
            return String(decoding: bytes, as: UTF8.self)
        }

        try checkUnicodeCharacters(scalars)
        var text = String(String.UnicodeScalarView(scalars))
        // UTS#46 maps these to "." too; dropping a trailing one here keeps libidn2 from seeing an empty label.
        if let last = text.unicodeScalars.last, isDot(last) { text.unicodeScalars.removeLast() }
        var bytes = try idnaToASCII(text)
        for index in bytes.indices { bytes[index] = lowercasedASCII(bytes[index]) }
        try checkCharacters(bytes)
        try validateLDH(bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The common case, a million times a run: a name of letters, digits, hyphens and dots that passes every
    /// LDH rule as it stands. Checked on its bytes in one pass, without Unicode scalars, label strings or libidn2;
    /// returned as is when it is already lowercase without a trailing dot (no copy). nil for anything else,
    /// including every name the rules reject and every `xn--` label: the full path decides and words the reason.
    private static func plainLDH(_ text: String) -> String? {
        let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
        let checked: (lowered: [UInt8]?, same: Bool)?? = text.utf8.withContiguousStorageIfAvailable { bytes in
            var end = bytes.count
            if end > 0, bytes[end - 1] == dot { end -= 1 }
            guard end > 0, end <= maxNameLength else { return nil }
            var hasUpper = false
            var labels = 0
            var labelStart = 0
            var allDigits = true
            for index in 0...end {
                if index == end || bytes[index] == dot {
                    let length = index - labelStart
                    guard length >= 1, length <= maxLabelLength, bytes[labelStart] != hyphen, bytes[index - 1] != hyphen else { return nil }
                    // `xn--` (libidn2 checks it) and the reserved `??--`: the full path.
                    if length >= 4, bytes[labelStart + 2] == hyphen, bytes[labelStart + 3] == hyphen { return nil }
                    labels += 1
                    if index < end { allDigits = true }
                    labelStart = index + 1
                    continue
                }
                let byte = bytes[index]
                if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") || byte == hyphen {
                    allDigits = false
                } else if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                    allDigits = false
                    hasUpper = true
                } else if !isDigit(byte) {
                    return nil
                }
            }
            // One label, or an all-digit TLD: the full path says which.
            guard labels >= 2, !allDigits else { return nil }
            if !hasUpper && end == bytes.count { return (nil, true) }
            return (bytes[..<end].map(lowercasedASCII), false)
        }
        guard let checked, let checked else { return nil }
        if checked.same { return text }
        return String(decoding: checked.lowered!, as: UTF8.self)
    }

    // MARK: - Characters

    private static func trimmed(_ scalars: String.UnicodeScalarView) -> Substring.UnicodeScalarView {
        var view = scalars[...]
        while let first = view.first, isTrimmable(first) { view.removeFirst() }
        while let last = view.last, isTrimmable(last) { view.removeLast() }
        return view
    }

    private static func isTrimmable(_ scalar: Unicode.Scalar) -> Bool {
        // Zero-width space and BOM are invisible in spreadsheets and pasted text, and are not "whitespace" to Unicode.
        scalar.properties.isWhitespace || scalar.value == 0x200B || scalar.value == 0xFEFF || scalar.value == 0x2060
    }

    private static func isDot(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "." || scalar.value == 0x3002 || scalar.value == 0xFF0E || scalar.value == 0xFF61
    }

    /// What only the Unicode form can show; the ASCII punctuation rules run again on libidn2's output.
    private static func checkUnicodeCharacters(_ scalars: Substring.UnicodeScalarView) throws(DomainNameError) {
        for scalar in scalars {
            let value = scalar.value
            if value < 0x80 {
                try checkASCIICharacter(UInt8(value), in: scalars)
            } else if value <= 0x9F {
                throw DomainNameError("contains a control character (\(codePoint(value)))")
            } else if scalar.properties.isWhitespace {
                throw DomainNameError("contains a space")
            } else if value == 0xFFFD {
                throw DomainNameError("contains an unreadable character (U+FFFD, usually a wrong text encoding)")
            }
        }
    }

    private static func checkCharacters(_ bytes: [UInt8]) throws(DomainNameError) {
        for byte in bytes where !isLDH(byte) && byte != UInt8(ascii: ".") {
            try checkASCIICharacter(byte, in: String(decoding: bytes, as: UTF8.self).unicodeScalars[...])
        }
    }

    /// Throws for every ASCII byte that is not a letter, digit, hyphen or dot, naming the likely mistake.
    private static func checkASCIICharacter(_ byte: UInt8, in scalars: Substring.UnicodeScalarView) throws(DomainNameError) {
        if isLDH(byte) || byte == UInt8(ascii: ".") { return }
        switch byte {
        case 0:
            throw DomainNameError("contains a NUL byte")
        case 0x01..<0x20, 0x7F:
            if byte == UInt8(ascii: "\t") { throw DomainNameError("contains a tab") }
            throw DomainNameError("contains a control character (\(codePoint(UInt32(byte))))")
        case UInt8(ascii: " "):
            throw DomainNameError("contains a space")
        case UInt8(ascii: ":"), UInt8(ascii: "/"):
            let text = String(String.UnicodeScalarView(scalars))
            if let range = text.range(of: "://") {
                let scheme = text[..<range.upperBound]
                throw DomainNameError("looks like a URL: remove '\(excerpt(scheme))' and any path, keep only the name, like example.com")
            }
            if byte == UInt8(ascii: "/") {
                throw DomainNameError("contains '/': remove the path, keep only the name, like example.com")
            }
            throw DomainNameError("contains ':': remove the port or scheme, keep only the name, like example.com")
        case UInt8(ascii: "@"):
            throw DomainNameError("contains '@': this looks like an email address, not a domain name")
        case UInt8(ascii: "_"):
            throw DomainNameError("contains '_' (underscore), which domain names cannot have")
        case UInt8(ascii: ","), UInt8(ascii: ";"):
            throw DomainNameError("contains '\(Character(Unicode.Scalar(byte)))': put one domain per line or field")
        default:
            throw DomainNameError("contains '\(Character(Unicode.Scalar(byte)))', which domain names cannot have (only letters, digits, hyphens and dots)")
        }
    }

    // MARK: - LDH rules

    private static func validateLDH(_ bytes: [UInt8]) throws(DomainNameError) {
        let dot = UInt8(ascii: ".")
        if bytes.isEmpty { throw DomainNameError("empty: no domain name") }
        if bytes.first == dot { throw DomainNameError("starts with a dot") }
        let labels = bytes.split(separator: dot, omittingEmptySubsequences: false)
        for label in labels {
            if label.isEmpty { throw DomainNameError("empty label: two dots in a row") }
            let name = String(decoding: label, as: UTF8.self)
            if label.count > maxLabelLength {
                throw DomainNameError("label longer than 63 characters: '\(excerpt(name[...], limit: 20))' has \(label.count)")
            }
            if label.first == UInt8(ascii: "-") { throw DomainNameError("label '\(excerpt(name[...]))' starts with a hyphen") }
            if label.last == UInt8(ascii: "-") { throw DomainNameError("label '\(excerpt(name[...]))' ends with a hyphen") }
            if label.count >= 4 {
                let start = label.startIndex
                let hyphens = label[start + 2] == UInt8(ascii: "-") && label[start + 3] == UInt8(ascii: "-")
                if hyphens && !(label[start] == UInt8(ascii: "x") && label[start + 1] == UInt8(ascii: "n")) {
                    throw DomainNameError("label '\(excerpt(name[...]))' has '--' in the 3rd and 4th places, which is reserved for encodings like xn--")
                }
            }
            if let bad = label.first(where: { !isLDH($0) }) {
                throw DomainNameError("contains '\(Character(Unicode.Scalar(bad)))', which domain names cannot have (only letters, digits, hyphens and dots)")
            }
        }
        if bytes.count > maxNameLength { throw tooLong(bytes.count) }
        if labels.count < 2 {
            throw DomainNameError("only one label: a domain needs a name and a TLD, like example.com")
        }
        if let tld = labels.last, tld.allSatisfy(isDigit) {
            if labels.allSatisfy({ $0.allSatisfy(isDigit) }) {
                throw DomainNameError("looks like an IP address, not a domain name")
            }
            throw DomainNameError("TLD '\(String(decoding: tld, as: UTF8.self))' is all digits; a TLD has letters, like .com")
        }
    }

    private static func hasALabel(_ bytes: [UInt8]) -> Bool {
        var atLabelStart = true
        for index in bytes.indices {
            if atLabelStart, index + 3 < bytes.count, bytes[index] == UInt8(ascii: "x"), bytes[index + 1] == UInt8(ascii: "n"),
               bytes[index + 2] == UInt8(ascii: "-"), bytes[index + 3] == UInt8(ascii: "-") {
                return true
            }
            atLabelStart = bytes[index] == UInt8(ascii: ".")
        }
        return false
    }

    // MARK: - libidn2

    private static let idnaFlags = Int32(IDN2_NONTRANSITIONAL.rawValue | IDN2_NFC_INPUT.rawValue)

    /// libidn2's answer, then the two UTS #46 checks it leaves out (see ``checkALabels(_:)``).
    private static func idnaToASCII(_ text: String) throws(DomainNameError) -> [UInt8] {
        let bytes = try libidn2ToASCII(text)
        try checkALabels(bytes)
        return bytes
    }

    private static func libidn2ToASCII(_ text: String) throws(DomainNameError) -> [UInt8] {
        switch callIDN2(text) {
        case .success(let bytes):
            return bytes
        case .failure(let code):
            // libidn2 speaks of "the string"; find the label it objects to so the reason can name it.
            let labels = text.unicodeScalars.split(whereSeparator: isDot).map { String(String.UnicodeScalarView($0)) }
            for label in labels where labels.count > 1 {
                if case .failure(let labelCode) = callIDN2(label) { throw idnaError(labelCode, label: label) }
            }
            throw idnaError(code, label: labels.count == 1 ? labels[0] : nil)
        }
    }

    /// Holds every `xn--` label of libidn2's output to what UTS #46 asks of a decoded A-label, which libidn2
    /// 2.3.3 does not fully check:
    /// - STD3 rules: `≠` `≮` `≯` are "disallowed_STD3_valid" (they decompose to `=` `<` `>` plus U+0338).
    ///   libidn2 lets them through without `IDN2_USE_STD3_ASCII_RULES`, and with that flag it silently drops
    ///   them (`a≠b.com` becomes `ab.com`, another name), so the flag cannot be used: they are refused here,
    ///   whether they came as Unicode or inside an `xn--` label.
    /// - Round trip: an `xn--` label given as is must decode to a U-label that encodes back to the same label;
    ///   one that decodes to mapped or disallowed text (`xn--a-ecp` is `a⒈`) is not a valid A-label.
    private static func checkALabels(_ bytes: [UInt8]) throws(DomainNameError) {
        guard hasALabel(bytes) else { return }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard label.count > 4, label.starts(with: Array("xn--".utf8)) else { continue }
            let aLabel = String(decoding: label, as: UTF8.self)
            guard let uLabel = decodeALabel(aLabel) else {
                throw DomainNameError("label '\(excerpt(aLabel[...]))' is not valid punycode: an xn-- label must encode a Unicode name")
            }
            if let bad = uLabel.unicodeScalars.first(where: isSTD3Disallowed) {
                throw DomainNameError("""
                    contains '\(bad)' (\(codePoint(bad.value))) in '\(excerpt(uLabel[...]))' (\(excerpt(aLabel[...]))), which \
                    domain names cannot have: UTS #46 with STD3 rules disallows it, as it stands for '\(std3Base(bad))' with a stroke
                    """)
            }
            switch callIDN2(uLabel) {
            case .success(let again) where again.map(lowercasedASCII) == Array(label):
                continue
            case .success(let again):
                throw DomainNameError("label '\(excerpt(aLabel[...]))' is not a valid A-label: it decodes to '\(excerpt(uLabel[...]))', which encodes as '\(excerpt(String(decoding: again, as: UTF8.self)[...]))'")
            case .failure(let code):
                let reason = idnaError(code, label: uLabel).reason
                throw DomainNameError("label '\(excerpt(aLabel[...]))' decodes to '\(excerpt(uLabel[...]))', which is not valid: \(reason)")
            }
        }
    }

    private static func decodeALabel(_ label: String) -> String? {
        var output: UnsafeMutablePointer<CChar>?
        let rc = idn2_to_unicode_8z8z(label, &output, 0)
        defer { bb_idn2_free(output) }
        guard rc == IDN2_OK.rawValue, let output else { return nil }
        return String(validatingCString: output)
    }

    /// UTS #46 "disallowed_STD3_valid" outside ASCII (IdnaMappingTable 14.0: U+2260, U+226E..U+226F).
    private static func isSTD3Disallowed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value == 0x2260 || scalar.value == 0x226E || scalar.value == 0x226F
    }

    private static func std3Base(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x2260: "="
        case 0x226E: "<"
        default: ">"
        }
    }

    private static func callIDN2(_ text: String) -> Result<[UInt8], IDN2Code> {
        var output: UnsafeMutablePointer<CChar>?
        let rc = idn2_to_ascii_8z(text, &output, idnaFlags)
        defer { bb_idn2_free(output) }
        guard rc == IDN2_OK.rawValue, let output else { return .failure(IDN2Code(rc)) }
        let bytes = UnsafeRawPointer(output).assumingMemoryBound(to: UInt8.self)
        return .success(Array(UnsafeBufferPointer(start: bytes, count: strlen(output))))
    }

    private struct IDN2Code: Error { var rc: Int32; init(_ rc: Int32) { self.rc = rc } }

    private static func idnaError(_ code: IDN2Code, label: String?) -> DomainNameError {
        let shown = label.map { excerpt($0[...]) } ?? ""
        switch code.rc {
        case IDN2_TOO_BIG_LABEL.rawValue, IDN2_PUNYCODE_BIG_OUTPUT.rawValue, IDN2_PUNYCODE_OVERFLOW.rawValue:
            return DomainNameError(label.map { "label longer than 63 characters: '\(excerpt($0[...], limit: 20))'" }
                ?? "label longer than 63 characters")
        case IDN2_TOO_BIG_DOMAIN.rawValue:
            return DomainNameError("longer than 253 characters")
        case IDN2_HYPHEN_STARTEND.rawValue where label != nil:
            let starts = label?.hasPrefix("-") ?? false
            return DomainNameError("label '\(shown)' \(starts ? "starts" : "ends") with a hyphen")
        case IDN2_UNASSIGNED.rawValue:
            return DomainNameError("""
                contains a character that is unassigned in the IDNA tables of this system's libidn2\(label == nil ? "" : " (label '\(shown)')"): \
                they end at Unicode 12, so letters added in Unicode 13 and 14 are refused too
                """)
        case IDN2_2HYPHEN.rawValue where label != nil:
            return DomainNameError("label '\(shown)' has '--' in the 3rd and 4th places, which is reserved for encodings like xn--")
        default:
            let message = idn2_strerror(code.rc).map { String(cString: $0) } ?? "error \(code.rc)"
            return DomainNameError("not valid IDNA: \(message)" + (label == nil ? "" : " (label '\(shown)')"))
        }
    }

    // MARK: - Small helpers

    private static func tooLong(_ count: Int) -> DomainNameError {
        DomainNameError("longer than 253 characters (\(count))")
    }

    private static func isLDH(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || isDigit(byte) || byte == UInt8(ascii: "-")
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func lowercasedASCII(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    private static func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// Keeps reasons one short line even when the offending text is huge.
    private static func excerpt(_ text: Substring, limit: Int = 40) -> String {
        text.count <= limit ? String(text) : String(text.prefix(limit)) + "…"
    }
}
