import Foundation

/// The limits a `submit` may not go past: `--max-domains`, `--max-spend`, and what to do when the plan does.
///
/// Both count the whole run, not only this invocation: what earlier invocations of the same run already sent
/// (or placed, or may have placed) counts against them, so rerunning a capped command never sends more.
public struct Caps: Sendable, Equatable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// A plan over any cap sends nothing and exits 2.
        case stop
        /// Sends the first domains in input order up to the caps; the rest are `skipped` (code `cap`).
        case first
    }

    /// `--max-domains N`: the most domains each provider may be sent in this run.
    public var maxDomains: Int?
    /// `--max-domains PROVIDER=N`: that provider's own limit, instead of `maxDomains`.
    public var maxDomainsPer: [ProviderID: Int] = [:]
    /// `--max-spend AMOUNTCUR`: the most the run may cost or freeze in that currency, all providers priced in it together.
    public var maxSpend: [String: Money] = [:]
    /// `--max-spend PROVIDER=AMOUNTCUR`: the most one provider may cost or freeze in this run.
    public var maxSpendPer: [ProviderID: Money] = [:]
    public var mode: Mode = .stop

    public init() {}

    public var isEmpty: Bool { maxDomains == nil && maxDomainsPer.isEmpty && maxSpend.isEmpty && maxSpendPer.isEmpty }
    public var hasSpendCap: Bool { !maxSpend.isEmpty || !maxSpendPer.isEmpty }

    public func domainCap(_ id: ProviderID) -> Int? { maxDomainsPer[id] ?? maxDomains }

    /// How the domain cap of `id` reads on the command line.
    public func domainCapText(_ id: ProviderID) -> String {
        maxDomainsPer[id].map { "--max-domains \(id.rawValue)=\($0)" } ?? "--max-domains \(maxDomains ?? 0)"
    }

    /// Reads the `--max-domains`, `--max-spend` and `--cap-mode` values; an error says which value and why.
    public static func parse(maxDomains: [String], maxSpend: [String], mode: String?) throws(CapError) -> Caps {
        var caps = Caps()
        if let mode {
            guard let m = Mode(rawValue: mode.lowercased()) else {
                throw CapError("--cap-mode \(mode): choose 'stop' (send nothing when the plan is over a cap; the default) or 'first' (send the first domains up to it)")
            }
            caps.mode = m
        }
        for value in maxDomains {
            let (provider, rest) = try split(value, option: "--max-domains")
            guard let n = Int(rest), n >= 0 else {
                throw CapError("--max-domains \(value): give a whole number of domains (e.g. --max-domains 500, or --max-domains yay=100)")
            }
            if let provider {
                guard caps.maxDomainsPer[provider] == nil else { throw CapError("--max-domains \(provider.rawValue)=… is given twice") }
                caps.maxDomainsPer[provider] = n
            } else {
                guard caps.maxDomains == nil else { throw CapError("--max-domains N is given twice; give one per provider as PROVIDER=N") }
                caps.maxDomains = n
            }
        }
        for value in maxSpend {
            let (provider, rest) = try split(value, option: "--max-spend")
            guard let money = Money.parse(rest) else {
                throw CapError("--max-spend \(value): give AMOUNT and a 3-letter CURRENCY, e.g. --max-spend 20GBP, --max-spend '20 GBP' or --max-spend yay=2.50GBP")
            }
            if let provider {
                guard caps.maxSpendPer[provider] == nil else { throw CapError("--max-spend \(provider.rawValue)=… is given twice") }
                caps.maxSpendPer[provider] = money
            } else {
                guard caps.maxSpend[money.currency] == nil else { throw CapError("--max-spend …\(money.currency) is given twice") }
                caps.maxSpend[money.currency] = money
            }
        }
        if caps.mode == .first, caps.isEmpty {
            throw CapError("--cap-mode first needs a cap: --max-domains or --max-spend")
        }
        return caps
    }

    /// `PROVIDER=REST` or `REST`.
    private static func split(_ value: String, option: String) throws(CapError) -> (ProviderID?, String) {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard let eq = text.firstIndex(of: "=") else { return (nil, text) }
        let name = text[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
        guard let id = ProviderID(rawValue: name) else {
            throw CapError("\(option) \(value): '\(name)' is not a provider; choose from \(ProviderID.allCases.map(\.rawValue).joined(separator: ","))")
        }
        return (id, text[text.index(after: eq)...].trimmingCharacters(in: .whitespaces))
    }
}

/// A cap option that cannot be read; `message` names the option and the fix.
public struct CapError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
