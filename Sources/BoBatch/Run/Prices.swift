import Foundation

/// An amount of one currency, exactly: a `Decimal`, never a binary float, so that 0.10 × 3 is 0.30 and a cap of
/// 20.00 is met by eight 2.50s, not missed by a rounding error.
public struct Money: Sendable, Equatable, CustomStringConvertible {
    public var amount: Decimal
    /// Three ASCII letters, upper case (ISO 4217's shape; bo-batch converts no currencies, it only compares codes).
    public var currency: String
    /// Decimal places the amount was written with: amounts derived from it are shown with as many.
    public var scale: Int

    public init(amount: Decimal, currency: String, scale: Int) {
        self.amount = amount
        self.currency = currency
        self.scale = scale
    }

    public var description: String { "\(Self.format(amount, scale: scale)) \(currency)" }

    /// `2.50 GBP`, `2.50GBP`, `20 gbp`, `0 USD`: a non-negative decimal with `.` (no exponent, no sign, no
    /// thousands separator), then a three-letter currency code, with or without a space. Nil otherwise.
    public static func parse(_ text: String) -> Money? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let amountPart = parseAmount(String(trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") })) else { return nil }
        let rest = trimmed.dropFirst(amountPart.text.count).trimmingCharacters(in: .whitespaces)
        guard let currency = currencyCode(rest) else { return nil }
        return Money(amount: amountPart.value, currency: currency, scale: amountPart.scale)
    }

    /// Digits, optionally `.` and more digits: the value and its decimal places. Nil for anything else.
    public static func parseAmount(_ text: String) -> (value: Decimal, scale: Int, text: String)? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        // 18 significant digits keep every amount exact in Decimal's 38-digit mantissa, products included.
        guard parts.map(\.count).reduce(0, +) <= 18, let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        return (value, parts.count == 2 ? parts[1].count : 0, text)
    }

    /// Three ASCII letters, returned in upper case; nil otherwise.
    public static func currencyCode(_ text: String) -> String? {
        guard text.count == 3, text.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        return text.uppercased()
    }

    /// `amount` with exactly `scale` decimal places (rounded half up beyond them), `.` as the separator.
    public static func format(_ amount: Decimal, scale: Int) -> String {
        var value = amount
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, max(0, scale), .plain)
        var text = NSDecimalNumber(decimal: rounded).stringValue
        guard scale > 0 else { return text }
        if !text.contains(".") { text += "." }
        let decimals = text.split(separator: ".", omittingEmptySubsequences: false).last?.count ?? 0
        return text + String(repeating: "0", count: max(0, scale - decimals))
    }
}

/// What a provider's price means for the account: when the money goes, and whether it comes back.
public enum ExposureKind: String, Sendable, Codable, CaseIterable {
    /// Taken at the call, whatever the answer (Yay charges every POST).
    case chargedNow = "charged-now"
    /// Held from the balance while the backorder stands, returned if it does not catch (Gname's frozen `qian`,
    /// 1API's deposit).
    case frozen
    /// Paid only when the provider catches the domain (Dynadot).
    case paidIfCaught = "paid-if-caught"
    /// Nothing is charged (DNSPod's get-domain-back mails a verification code).
    case none
}

/// The price of one provider as the user stated it, and what kind of money it is.
public struct ProviderPrice: Sendable, Equatable {
    public var provider: ProviderID
    public var kind: ExposureKind
    /// The variable that states it (nil for a provider that charges nothing).
    public var variable: String?
    /// Per domain sent (Yay: per POST). Nil when unknown: never taken as zero.
    public var amount: Decimal?
    /// Nil when not stated (Gname's `GNAME_MAX_PRICE=10.50` without a currency): the amount is shown, but no cap
    /// can count it.
    public var currency: String?
    public var scale: Int

    /// Both the amount and the currency are known: exposures can be added up and checked against caps.
    public var money: Money? {
        guard let amount, let currency else { return nil }
        return Money(amount: amount, currency: currency, scale: scale)
    }

    /// What this kind of exposure means at this provider, in a sentence.
    public var meaning: String {
        switch provider {
        case .dynadot: "paid only if Dynadot catches the domain; nothing is charged for placing the backorder"
        case .gname: "frozen from the balance for each placed backorder (at most GNAME_MAX_PRICE, sent as qian); returned if it does not catch"
        case .yay: "charged on every POST /dom/back-order, whatever the answer"
        case .oneapi: "a deposit per application, reserved from the balance three days before the drop; refunded if the backorder does not catch"
        case .dnspod: "nothing: Domain.Acquiresend mails a verification code and charges nothing"
        }
    }

    /// For an unknown price (or one without its currency): what to set, with an example.
    public var fix: String? {
        guard kind != .none, money == nil, let variable else { return nil }
        if amount != nil, currency == nil {
            return "\(variable) has no currency: write it with the account's, e.g. \(variable)='\(Money.format(amount!, scale: scale)) USD'"
        }
        let example = provider == .gname ? "10.00 USD" : provider == .yay ? "2.50 GBP" : "8.00 USD"
        return "set \(variable)=AMOUNT CURRENCY, e.g. \(variable)='\(example)'"
    }
}

/// Reads `<PROVIDER>_PRICE=AMOUNT CURRENCY` (and Gname's `GNAME_MAX_PRICE`) for the selected providers.
///
/// - Yay: `YAY_PRICE`, charged per POST.
/// - Dynadot: `DYNADOT_PRICE`, paid only on a catch.
/// - 1API: `ONEAPI_PRICE`, the deposit per application.
/// - Gname: `GNAME_MAX_PRICE` (the `qian` sent with every create, so Gname itself keeps the freeze under it),
///   `AMOUNT` or `AMOUNT CURRENCY`; `GNAME_PRICE` is refused so that two variables can never disagree.
/// - DNSPod: charges nothing (seed 004 lists no price; it mails a code); `DNSPOD_PRICE` is refused.
public enum PriceList {
    public static func variable(_ id: ProviderID) -> String? {
        switch id {
        case .dynadot: "DYNADOT_PRICE"
        case .gname: "GNAME_MAX_PRICE"
        case .yay: "YAY_PRICE"
        case .oneapi: "ONEAPI_PRICE"
        case .dnspod: nil
        }
    }

    public static func kind(_ id: ProviderID) -> ExposureKind {
        switch id {
        case .dynadot: .paidIfCaught
        case .gname, .oneapi: .frozen
        case .yay: .chargedNow
        case .dnspod: .none
        }
    }

    /// Every selected provider's price; a malformed value is an error naming its variable.
    public static func fromEnvironment(_ env: [String: String], providers: [ProviderID]) throws(ConfigurationError) -> [ProviderID: ProviderPrice] {
        let reader = EnvironmentReader(env)
        if let raw = reader.value("GNAME_PRICE") {
            throw ConfigurationError("GNAME_PRICE=\(raw) is not used: Gname freezes at most GNAME_MAX_PRICE per domain (sent as qian); set GNAME_MAX_PRICE='\(raw)' instead")
        }
        if let raw = reader.value("DNSPOD_PRICE") {
            throw ConfigurationError("DNSPOD_PRICE=\(raw) is not used: DNSPod's Domain.Acquiresend charges nothing (it mails a verification code); unset it")
        }
        var out: [ProviderID: ProviderPrice] = [:]
        for id in providers {
            var price = ProviderPrice(provider: id, kind: kind(id), variable: variable(id), amount: nil, currency: nil, scale: 2)
            if id == .dnspod {
                price.amount = 0
                price.scale = 0
            } else if let name = variable(id), let raw = reader.value(name) {
                if id == .gname, let amount = Money.parseAmount(raw) {
                    // The plain amount GNAME_MAX_PRICE always took: the currency is the account's, unknown here.
                    price.amount = amount.value
                    price.scale = amount.scale
                } else if let money = Money.parse(raw) {
                    price.amount = money.amount
                    price.currency = money.currency
                    price.scale = money.scale
                } else {
                    throw ConfigurationError("\(name)=\(raw) is not AMOUNT CURRENCY (a decimal with '.', then a 3-letter currency code), e.g. \(name)='2.50 GBP'")
                }
            }
            out[id] = price
        }
        return out
    }
}
