import Foundation

/// The providers bo-batch speaks to, by the names `--provider` takes.
public enum ProviderID: String, CaseIterable, Sendable, Codable, Comparable {
    case dynadot, gname, yay, oneapi, dnspod

    public static func < (lhs: ProviderID, rhs: ProviderID) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One domain as a provider receives it.
public struct BackorderItem: Sendable, Hashable {
    public var domain: DomainName
    public var attributes: DomainAttributes

    public init(domain: DomainName, attributes: DomainAttributes = DomainAttributes()) {
        self.domain = domain
        self.attributes = attributes
    }
}

/// What a provider concluded about one domain.
public enum Verdict: Sendable, Equatable {
    /// Placed now. `reference` is the provider's id for it (Yay uuid, 1API application), when it gives one.
    case accepted(reference: String?, message: String)
    /// It was placed before; costs nothing more.
    case already(reference: String?, message: String)
    /// Permanent and about this domain: retrying cannot help.
    case rejected(message: String)
    /// Deliberately not sent (policy, missing data).
    case skipped(message: String)
}

/// The answer to one create call, as the lane needs it to decide what happens next.
public enum SubmitResult: Sendable, Equatable {
    /// Every item got its verdict (keyed by domain; one per item).
    case settled([DomainName: Verdict])
    /// Refused before anything was done (rate limit, busy, temporary error): safe to send again after the wait.
    case refused(reason: String, retryAfterSeconds: Double?)
    /// No usable answer; the provider may have acted. Reconcile by lookup before sending again.
    case maybeProcessed(reason: String)
    /// The call failed as a whole. Which of its domains landed is unknown, and the reason may concern one
    /// domain only. The lane reconciles, then splits the rest until each domain stands alone;
    /// `verdictIfAlone` is what the failure means for a batch of one.
    case batchFailed(reason: String, verdictIfAlone: Verdict)
    /// The account cannot go on (credentials, funds, IP, ban): stop the lane. `fix` tells a person what to do.
    case halt(reason: String, fix: String)
}

/// The answer to a lookup of what the account holds.
public enum LookupResult: Sendable, Equatable {
    /// The asked domains the provider holds, with its reference for each ("" when it gives none).
    /// Asked domains absent from the map are proven absent.
    case found([DomainName: String])
    /// The lookup did not work this time (transient): the asked domains stay unsettled.
    case unavailable(reason: String)
    /// This provider has no way to look a domain up.
    case unsupported(reason: String)
    case halt(reason: String, fix: String)
}

/// Whether an account is still working on an earlier request (Dynadot's `is_processing`).
public enum BusyState: Sendable, Equatable {
    case idle
    case busy
    case unavailable(reason: String)
}

/// A provider's protocol: request building, answer parsing and error classification, nothing else.
///
/// Implementation requirements:
/// - `submit` is called with 1...`maxBatch` items and sends at most one create request for them.
/// - Return one verdict per item, or a result that settles none (`refused`, `maybeProcessed`, `batchFailed`,
///   `halt`); never throw, never print.
/// - No retries, sleeps or pacing inside: the lane owns those, so that every attempt is in the ledger.
/// - Refusals (nothing done) are `.refused`; an answer that was lost, cut, or a 5xx is `.maybeProcessed` or
///   `.batchFailed`, never a verdict; account-level errors are `.halt` with a fix a person can act on.
/// - Safe to call concurrently (the lane decides how many calls are in flight).
/// - Secrets never appear in any returned string: declare them in `secrets`.
///
/// What is the same for every provider is enforced once, by `RedactingProvider`, which `ProviderCatalog.make`
/// wraps every provider in: it cleans every returned string (secrets, control characters, length) and refuses a
/// create of more than `maxBatch` items before it reaches the provider. A provider does neither itself.
///
/// Adding a provider means passing `ProviderConformanceTests` (Tests/BoBatchTests/ProviderConformanceTests.swift):
/// add its case to `ProviderID`, its construction to `ProviderCatalog.make`, its fake to the sandbox and its create
/// command names to the suite, which then checks these requirements for it over loopback, built by the catalog,
/// with the real transport.
public protocol Provider: Sendable {
    var id: ProviderID { get }
    /// Most domains one create may carry.
    var maxBatch: Int { get }
    /// Every credential value that must never appear in a returned string (keys, passwords, tokens and the
    /// parts of them a provider might quote). `RedactingProvider` removes them, plain and percent-encoded.
    var secrets: [String] { get }
    /// Most domains one `lookup` may be asked about. A provider whose lookup costs one request per domain says 1,
    /// so that the lane paces each of those requests.
    var maxLookupBatch: Int { get }
    /// Where requests go (for `providers` and messages; never carries a secret).
    var endpointDescription: String { get }

    func submit(_ items: [BackorderItem]) async -> SubmitResult
    func lookup(_ items: [BackorderItem]) async -> LookupResult
    /// Whether `accountBusy` asks the provider anything (Dynadot's `is_processing`); the lane skips the check otherwise.
    var checksAccountBusy: Bool { get }
    /// Whether `lookup` can tell what was placed (false for DNSPod, whose get-domain-back cannot be asked). With
    /// one, the lane may record an answer while the next request is on the wire: a kill in between leaves the
    /// answered create unclear, and the rerun asks instead of sending it again.
    var canLookUp: Bool { get }
    /// The one thread its requests are performed on, for the lane's worker to run on as well (see
    /// `HTTPTransport.taskExecutor`); nil when the transport has several.
    var taskExecutor: (any TaskExecutor)? { get }
    /// Called by the lane after any request that failed or ended unclearly, until it answers `.idle`.
    func accountBusy() async -> BusyState
    /// A reason not to send this item at all (1API's three-hour cutoff), or nil.
    func skipReason(for item: BackorderItem, now: Date) -> String?

    // After the create (FollowUp.swift; defaults there for a provider that offers none).
    /// Which follow-up calls the provider offers, and their batch sizes.
    var followUp: FollowUpSupport { get }
    /// What became of each order: 1...`followUp.refreshBatch` orders, one request or one listing (paged as the
    /// provider needs) per call, one report per order.
    func refresh(_ orders: [PlacedOrder], now: Date) async -> RefreshResult
    /// The same for a whole account's orders at once (`followUp.refreshStreams`): the reports go to `sink` a
    /// slice at a time, by position in `orders`, and `.fates` comes back empty; a failure after some slices keeps
    /// those (each from a complete, successful answer). Default: `refresh(orders.orders, now:)`, handed over.
    func refresh(_ orders: OrderSet, now: Date, into sink: @escaping FateSink) async -> RefreshResult
    /// Withdraws 1...`followUp.cancelBatch` orders in one request.
    func cancel(_ orders: [PlacedOrder]) async -> CancelResult
}

extension Provider {
    public var maxLookupBatch: Int { max(maxBatch, 100) }
    public var checksAccountBusy: Bool { false }
    public var canLookUp: Bool { true }
    public var taskExecutor: (any TaskExecutor)? { nil }
    public func accountBusy() async -> BusyState { .idle }
    public func skipReason(for item: BackorderItem, now: Date) -> String? { nil }
}
