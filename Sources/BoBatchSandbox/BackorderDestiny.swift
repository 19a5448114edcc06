import Foundation

/// The sandbox's clock: real time plus an offset that only moves forward, so a scenario can jump past the drop
/// (`PUT /_sandbox/clock`, `refresh --sandbox --sandbox-time +2d`) and every fake sees the same "now".
public final class SandboxClock: Sendable {
    private let offsetSeconds = Locked<TimeInterval>(0)
    private let base: @Sendable () -> Date

    public init(base: @escaping @Sendable () -> Date = Date.init) { self.base = base }

    public func now() -> Date { base().addingTimeInterval(offset) }

    /// How far the sandbox runs ahead of real time.
    public var offset: TimeInterval { offsetSeconds.withLock { $0 } }

    /// Runs the sandbox `seconds` ahead of real time; never moves it back (an order that resolved stays resolved).
    public func advance(to seconds: TimeInterval) {
        guard seconds.isFinite else { return }
        let moved = offsetSeconds.withLock { offset -> TimeInterval? in
            guard seconds > offset else { return nil }
            offset = seconds
            return seconds
        }
        // Outside the lock: an observer (the saved world) reads the clock again.
        if let moved { for observer in observers.withLock({ $0 }) { observer(moved) } }
    }

    /// Called with the new offset after every move forward (the in-process sandbox saves its world then).
    func onAdvance(_ observer: @escaping @Sendable (TimeInterval) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    private let observers = Locked<[@Sendable (TimeInterval) -> Void]>([])

    func reset() { offsetSeconds.withLock { $0 = 0 } }
}

/// What becomes of a backorder placed in the sandbox: the one rule every fake resolves orders by, so tests and
/// README can say in advance what `refresh` will find. Documented in README ("The sandbox's drop").
///
/// - **Drop time.** The one every fake already reports (Dynadot's `CutoffTime`, Gname's `scsj`, Yay's
///   `expires_on`), taken when the order was placed: 1 to 5 days after that UTC day began, at a minute decided by
///   the name (``dropTime(of:placedAt:)``). `--sandbox-time +6d` passes every drop.
/// - **Outcome at the drop**, by the first label's prefix, else by the name's hash (per provider, so that a
///   domain ordered at several providers is not won everywhere):
///   `win…`/`won…` won; `lose…`/`lost…` lost; `redeem…` redeemed; `auction…` in auction;
///   otherwise 40 % won, 25 % lost, 20 % in auction, 15 % redeemed.
/// - **An auction** runs for 24 hours after the drop at a price decided by the name, then closes won or lost
///   (by the name's hash).
/// - Before the drop every order is waiting, and only then can it be cancelled.
public enum BackorderDestiny {
    public enum Outcome: String, Sendable, Codable, Equatable {
        case won, lost, redeemed, auction
    }

    /// Where an order stands at a given time.
    public struct Phase: Sendable, Equatable {
        public enum Stage: String, Sendable, Codable, Equatable {
            /// Before the drop.
            case waiting
            /// After the drop, auction still open.
            case inAuction = "in-auction"
            case won, lost, redeemed
        }

        public var stage: Stage
        public var dropTime: Date
        /// Auctions only: when it closes.
        public var auctionEnds: Date?
        /// The auction's price (current while open, winning when closed), or the catch price when won directly.
        public var price: Int?
        /// Whether the order went through an auction (a won/lost after the auction closed).
        public var wasAuction: Bool
    }

    public static let auctionLength: TimeInterval = 86_400

    /// The sandbox's drop moment for an order placed at `placedAt`: ``PendingDeleteRule/dropTime(for:now:)``
    /// taken at the placement, so it stays put when the clock moves (1 to 5 days after the placement's UTC day).
    public static func dropTime(of domain: String, placedAt: Date) -> Date {
        PendingDeleteRule.dropTime(for: domain, now: placedAt)
    }

    /// The outcome at the drop at `provider` (the sandbox's name: dynadot, gname, yay, oneapi, dnspod).
    public static func outcome(of domain: String, provider: String) -> Outcome {
        let first = domain.split(separator: ".").first.map(String.init) ?? domain
        if first.hasPrefix("win") || first.hasPrefix("won") { return .won }
        if first.hasPrefix("lose") || first.hasPrefix("lost") { return .lost }
        if first.hasPrefix("redeem") { return .redeemed }
        if first.hasPrefix("auction") { return .auction }
        switch StableRandom.value(seed: 0, ["outcome", provider, domain]) % 100 {
        case 0..<40: return .won
        case 40..<65: return .lost
        case 65..<85: return .auction
        default: return .redeemed
        }
    }

    /// Whether an auction at `provider` closes won.
    public static func auctionWon(_ domain: String, provider: String) -> Bool {
        StableRandom.value(seed: 0, ["auction", provider, domain]) % 2 == 0
    }

    /// The catch or auction price in whole currency units (USD at Dynadot, CNY at Gname, ...: the fake says which).
    public static func price(of domain: String, provider: String) -> Int {
        Int(StableRandom.value(seed: 0, ["price", provider, domain]) % 200) + 20
    }

    /// Where an order placed at `placedAt` stands at `now`.
    public static func phase(of domain: String, provider: String, placedAt: Date, now: Date) -> Phase {
        let drop = dropTime(of: domain, placedAt: placedAt)
        let price = price(of: domain, provider: provider)
        guard now >= drop else { return Phase(stage: .waiting, dropTime: drop, auctionEnds: nil, price: nil, wasAuction: false) }
        switch outcome(of: domain, provider: provider) {
        case .won: return Phase(stage: .won, dropTime: drop, auctionEnds: nil, price: price, wasAuction: false)
        case .lost: return Phase(stage: .lost, dropTime: drop, auctionEnds: nil, price: nil, wasAuction: false)
        case .redeemed: return Phase(stage: .redeemed, dropTime: drop, auctionEnds: nil, price: nil, wasAuction: false)
        case .auction:
            let ends = drop.addingTimeInterval(auctionLength)
            if now < ends { return Phase(stage: .inAuction, dropTime: drop, auctionEnds: ends, price: price, wasAuction: true) }
            let won = auctionWon(domain, provider: provider)
            return Phase(stage: won ? .won : .lost, dropTime: drop, auctionEnds: ends, price: price, wasAuction: true)
        }
    }
}
