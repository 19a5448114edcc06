/// Deterministic pseudo-randomness. Swift's `Hasher` is seeded per process, so it cannot make a scenario
/// repeatable; these functions give the same numbers for the same inputs in every run.
enum StableRandom {
    /// FNV-1a over the UTF-8 bytes of `text`.
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
        return value
    }

    /// One SplitMix64 step: a well-mixed 64-bit value from any 64-bit input.
    static func mix(_ input: UInt64) -> UInt64 {
        var z = input &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A 64-bit value determined by the seed and the parts.
    static func value(seed: UInt64, _ parts: [String]) -> UInt64 {
        mix(seed ^ hash(parts.joined(separator: "\u{1F}")))
    }

    /// A number in 0..<1 determined by the seed and the parts.
    static func unit(seed: UInt64, _ parts: [String]) -> Double {
        Double(value(seed: seed, parts) >> 11) / Double(UInt64(1) << 53)
    }

    /// A version-4-shaped UUID string determined by the seed and the parts.
    static func uuid(seed: UInt64, _ parts: [String]) -> String {
        let high = value(seed: seed, parts + ["uuid-high"])
        let low = value(seed: seed, parts + ["uuid-low"])
        let hex = String(high, radix: 16).leftPadded(to: 16) + String(low, radix: 16).leftPadded(to: 16)
        let chars = Array(hex)
        let a = String(chars[0..<8])
        let b = String(chars[8..<12])
        let c = "4" + String(chars[13..<16])
        let variants: [Character] = ["8", "9", "a", "b"]
        let d = String(variants[Int(low & 3)]) + String(chars[17..<20])
        let e = String(chars[20..<32])
        return "\(a)-\(b)-\(c)-\(d)-\(e)"
    }
}

extension String {
    func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}
