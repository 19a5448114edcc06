import Foundation

// The second half of a backorder's life (issue 11): what became of a placed order (`refresh`), and withdrawing
// one before it costs money (`cancel`). These are the provider-side types; the ledger keeps a pair's fate beside
// its `state` (which only says whether the order was placed).

/// What became of a placed backorder. The raw values are what the ledger stores, result files and summary.json
/// show, and README documents: never change one.
public enum Fate: String, Sendable, Codable, CaseIterable, Comparable {
    /// Placed, before the drop (or the provider has not acted yet).
    case waiting
    /// Several backorders met: an auction decides (end time and current price where the provider says them).
    case inAuction = "in-auction"
    /// Caught: the domain is ours (price paid where the provider says it).
    case won
    /// Someone else caught it, the catch failed, or the auction was lost.
    case lost
    /// The owner renewed it: there was nothing to catch.
    case redeemed
    /// Withdrawn by `bo-batch cancel` (or already gone when the cancel asked: the provider no longer holds it).
    case cancelled
    /// The provider no longer lists the order and cannot say why (Yay after the drop).
    case gone
    /// The provider's answer did not say; the detail says why. Asked again on the next refresh.
    case unknown

    /// Nothing more can happen to the order: `refresh` does not ask about it again.
    public var isFinal: Bool {
        switch self {
        case .won, .lost, .redeemed, .cancelled, .gone: true
        case .waiting, .inAuction, .unknown: false
        }
    }

    public static func < (lhs: Fate, rhs: Fate) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One placed backorder, as the follow-up calls need it.
public struct PlacedOrder: Sendable, Hashable {
    public var domain: DomainName
    /// The provider's id for the order, from the create's answer or a lookup (Yay uuid, 1API application,
    /// Gname id); nil when the provider gave none (Dynadot identifies orders by domain).
    public var reference: String?
    /// The drop date the input gave, when it gave one.
    public var dropTime: Date?
    /// When the ledger recorded the order as placed.
    public var placedAt: Date

    public init(domain: DomainName, reference: String? = nil, dropTime: Date? = nil, placedAt: Date) {
        self.domain = domain
        self.reference = reference
        self.dropTime = dropTime
        self.placedAt = placedAt
    }
}

/// What a provider says became of one order.
public struct FateReport: Sendable, Equatable {
    public var fate: Fate
    /// The provider's own words for it (Dynadot's status, Gname's `ztstr`, 1API's STATUS, ...), for the result
    /// file's `fate.detail`; for `unknown`, why it is unknown.
    public var detail: String
    /// The amount where the provider says one, as the provider wrote it ("12.50"): the winning bid or price paid
    /// (`won`), the current price (`in-auction`), Gname's `qian` (budget).
    public var price: String?
    /// ISO 4217 code of `price` and `frozen`, where known.
    public var currency: String?
    /// An amount the provider holds frozen for the order (Gname's `dqian`), as written.
    public var frozen: String?
    /// When the auction ends (`in-auction`), or when the provider processes the order (Dynadot's `CutoffTime`).
    public var endsAt: Date?
    /// The provider's id for the order when the answer gives one the ledger may not have yet.
    public var reference: String?

    public init(
        fate: Fate, detail: String, price: String? = nil, currency: String? = nil, frozen: String? = nil,
        endsAt: Date? = nil, reference: String? = nil
    ) {
        self.fate = fate
        self.detail = detail
        self.price = price
        self.currency = currency
        self.frozen = frozen
        self.endsAt = endsAt
        self.reference = reference
    }
}

/// The answer to one `refresh` call.
public enum RefreshResult: Sendable, Equatable {
    /// One report per asked order (keyed by domain). An order the provider no longer lists gets the fate that
    /// means for this provider (`gone` for Yay after the drop; `unknown` with the reason when it cannot tell).
    case fates([DomainName: FateReport])
    /// Refused before anything was done (rate limit, busy): ask again after the wait.
    case refused(reason: String, retryAfterSeconds: Double?)
    /// No usable answer this time (transient): the asked orders keep their fate; a rerun asks again.
    case unavailable(reason: String)
    /// The account cannot go on (credentials, IP, ban): stop the lane. `fix` tells a person what to do.
    case halt(reason: String, fix: String)
}

/// What a provider did with one order a `cancel` asked to withdraw.
public enum CancelVerdict: Sendable, Equatable {
    /// Withdrawn now, or already gone when asked (a 404 for an order that no longer exists is success).
    case cancelled(message: String)
    /// The provider will not withdraw it (won, already being processed, past its cutoff): permanent for this order.
    case refused(message: String)
}

/// The answer to one cancel request.
public enum CancelResult: Sendable, Equatable {
    /// Every item got its verdict (keyed by domain; one per item).
    case settled([DomainName: CancelVerdict])
    /// Refused before anything was done (rate limit, busy): safe to send again after the wait.
    case refused(reason: String, retryAfterSeconds: Double?)
    /// No usable answer: the cancel may have been done. Settle by `lookup` (still held: send again; absent:
    /// cancelled) before sending it again.
    case maybeProcessed(reason: String)
    /// The account cannot go on: stop the lane.
    case halt(reason: String, fix: String)
}

/// What a provider offers after the create. Each provider states it; `refresh` and `cancel` read it to chunk and
/// to tell a user plainly what cannot be done.
public struct FollowUpSupport: Sendable, Equatable {
    /// Most orders one `refresh` call may carry: `Int.max` for a provider that answers for the whole account per
    /// call (Dynadot's and Yay's lists), 1 for one call per order (Gname, 1API's StatusDomainApplication). nil:
    /// the provider has nothing to refresh (DNSPod's get-domain-back is not a backorder), with `refreshNote`.
    public var refreshBatch: Int?
    public var refreshNote: String?
    /// Whether the provider answers a whole-account refresh slice by slice (`Provider.refresh(_:now:into:)`):
    /// the lane then hands it a run's orders as one compact ``OrderSet`` and records each slice as it comes, so a
    /// 100,000-order refresh holds no report per order (Dynadot).
    public var refreshStreams: Bool
    /// Most orders one cancel request may carry; nil when the provider's API offers no cancel (Gname), with
    /// `cancelNote` saying so to the user.
    public var cancelBatch: Int?
    public var cancelNote: String?

    public init(refreshBatch: Int?, refreshNote: String? = nil, refreshStreams: Bool = false, cancelBatch: Int?, cancelNote: String? = nil) {
        self.refreshBatch = refreshBatch
        self.refreshNote = refreshNote
        self.refreshStreams = refreshStreams
        self.cancelBatch = cancelBatch
        self.cancelNote = cancelNote
    }

    /// What a provider that has not implemented the follow-up calls offers.
    public static func none(_ id: ProviderID) -> FollowUpSupport {
        FollowUpSupport(
            refreshBatch: nil, refreshNote: "bo-batch cannot ask \(id.rawValue) what became of an order yet",
            cancelBatch: nil, cancelNote: "bo-batch cannot cancel at \(id.rawValue) yet")
    }
}

/// The follow-up calls a provider may implement (requirements of ``Provider``), with defaults for one that
/// offers none. The same rules as `submit`: never throw or print, no retries or sleeps inside, refusals are
/// `.refused`, a lost or cut answer to a cancel is `.maybeProcessed`, secrets never in a returned string.
extension Provider {
    public var followUp: FollowUpSupport { .none(id) }

    public func refresh(_ orders: [PlacedOrder], now: Date) async -> RefreshResult {
        .unavailable(reason: followUp.refreshNote ?? "\(id.rawValue) has no refresh")
    }

    public func refresh(_ orders: OrderSet, now: Date, into sink: @escaping FateSink) async -> RefreshResult {
        let result = await refresh(orders.orders, now: now)
        guard case .fates(let reports) = result else { return result }
        var slicer = FateSlicer(sink)
        for (domain, report) in reports {
            if let index = orders.index(of: domain.ascii) { slicer.add(index, report) }
        }
        slicer.flush()
        return .fates([:])
    }

    public func cancel(_ orders: [PlacedOrder]) async -> CancelResult {
        .settled(Dictionary(orders.map { ($0.domain, CancelVerdict.refused(message: followUp.cancelNote ?? "\(id.rawValue) has no cancel")) },
                            uniquingKeysWith: { a, _ in a }))
    }
}

extension FateReport {
    /// The same report with every string passed through `transform`.
    func mapText(_ transform: (String) -> String) -> FateReport {
        var out = self
        out.detail = transform(detail)
        out.price = price.map(transform)
        out.currency = currency.map(transform)
        out.frozen = frozen.map(transform)
        out.reference = reference.map(transform)
        return out
    }
}

extension RefreshResult {
    /// The same result with every string passed through `transform`.
    func mapText(_ transform: (String) -> String) -> RefreshResult {
        switch self {
        case .fates(let reports): .fates(reports.mapValues { $0.mapText(transform) })
        case .refused(let reason, let wait): .refused(reason: transform(reason), retryAfterSeconds: wait)
        case .unavailable(let reason): .unavailable(reason: transform(reason))
        case .halt(let reason, let fix): .halt(reason: transform(reason), fix: transform(fix))
        }
    }
}

extension CancelResult {
    /// The same result with every string passed through `transform`.
    func mapText(_ transform: (String) -> String) -> CancelResult {
        switch self {
        case .settled(let verdicts):
            .settled(verdicts.mapValues {
                switch $0 {
                case .cancelled(let message): .cancelled(message: transform(message))
                case .refused(let message): .refused(message: transform(message))
                }
            })
        case .refused(let reason, let wait): .refused(reason: transform(reason), retryAfterSeconds: wait)
        case .maybeProcessed(let reason): .maybeProcessed(reason: transform(reason))
        case .halt(let reason, let fix): .halt(reason: transform(reason), fix: transform(fix))
        }
    }
}
