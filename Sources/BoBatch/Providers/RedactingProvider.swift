import Foundation

/// The one place that enforces what every provider owes the lane, so that no provider carries its own copy:
///
/// - **Cleaning.** Every string a provider returns (`SubmitResult`, `LookupResult` and `BusyState` reasons,
///   messages, fixes and references, skip reasons, the endpoint description) goes through
///   `ProviderText.clean` with the provider's declared `secrets`: secrets removed in their plain and
///   percent-encoded forms, control characters turned into spaces, length bounded.
/// - **Batch size.** A create of more than `maxBatch` items never reaches the provider: it is a programming
///   error in the caller (the lane chunks by `maxBatch`), so it halts the lane with nothing sent. A `.halt` rather
///   than `.batchFailed`: `.batchFailed` claims the provider may have acted, which would send the lane to
///   reconcile by lookup (DNSPod has none) and then split the batch, hiding the bug while spending requests and,
///   for a batch of one, recording `verdictIfAlone` for domains that were never offered. Nothing was sent, the
///   caller is broken, and only a person can fix it: stopping the lane with a fix that says so is the honest answer.
///   An empty create is answered `.settled([:])` without asking the provider.
///
/// `ProviderCatalog.make` wraps every provider it builds; providers may therefore assume 1...`maxBatch` items.
public struct RedactingProvider: Provider {
    /// The provider whose answers are cleaned.
    public let base: any Provider

    /// Wraps `base`; a provider that is already wrapped is not wrapped twice.
    public init(_ base: any Provider) {
        if let wrapped = base as? RedactingProvider {
            self = wrapped
        } else {
            self.base = base
        }
    }

    public var id: ProviderID { base.id }
    public var maxBatch: Int { base.maxBatch }
    public var maxLookupBatch: Int { base.maxLookupBatch }
    public var secrets: [String] { base.secrets }
    public var checksAccountBusy: Bool { base.checksAccountBusy }
    public var canLookUp: Bool { base.canLookUp }
    public var taskExecutor: (any TaskExecutor)? { base.taskExecutor }
    public var endpointDescription: String { clean(base.endpointDescription) }

    public func submit(_ items: [BackorderItem]) async -> SubmitResult {
        if items.isEmpty { return .settled([:]) }
        if let oversize = Self.oversize(items.count, provider: base) { return oversize }
        return await base.submit(items).mapText(clean)
    }

    public func lookup(_ items: [BackorderItem]) async -> LookupResult {
        await base.lookup(items).mapText(clean)
    }

    public func accountBusy() async -> BusyState {
        await base.accountBusy().mapText(clean)
    }

    public func skipReason(for item: BackorderItem, now: Date) -> String? {
        base.skipReason(for: item, now: now).map(clean)
    }

    public var followUp: FollowUpSupport {
        var support = base.followUp
        support.refreshNote = support.refreshNote.map(clean)
        support.cancelNote = support.cancelNote.map(clean)
        return support
    }

    public func refresh(_ orders: [PlacedOrder], now: Date) async -> RefreshResult {
        if orders.isEmpty { return .fates([:]) }
        return await base.refresh(orders, now: now).mapText(clean)
    }

    /// Cleans each slice on its way to `sink` (never a copy of every report at once).
    public func refresh(_ orders: OrderSet, now: Date, into sink: @escaping FateSink) async -> RefreshResult {
        if orders.isEmpty { return .fates([:]) }
        let secrets = base.secrets
        let result = await base.refresh(orders, now: now) { slice in
            sink(slice.map { ($0.index, $0.report.mapText { ProviderText.clean($0, secrets: secrets) }) })
        }
        return result.mapText(clean)
    }

    /// A cancel of more orders than `followUp.cancelBatch` (or at a provider with no cancel) never reaches the
    /// provider, for the same reason as an oversize create: the caller is broken, nothing was sent.
    public func cancel(_ orders: [PlacedOrder]) async -> CancelResult {
        if orders.isEmpty { return .settled([:]) }
        guard let limit = base.followUp.cancelBatch, orders.count <= limit else {
            return .halt(
                reason: "internal error: \(base.id.rawValue) takes at most \(base.followUp.cancelBatch ?? 0) order(s) per cancel, "
                    + "\(orders.count) were given; nothing was sent",
                fix: "report this bug to bo-batch: nothing was sent; the orders are tried again on the next run")
        }
        return await base.cancel(orders).mapText(clean)
    }

    /// The halt for a create of more than `maxBatch` items, or nil when the size is allowed.
    static func oversize(_ count: Int, provider: any Provider) -> SubmitResult? {
        guard count > provider.maxBatch else { return nil }
        return .halt(
            reason: "internal error: \(provider.id.rawValue) takes at most \(provider.maxBatch) domain(s) per create, "
                + "\(count) were given; nothing was sent",
            fix: "report this bug to bo-batch: the lane handed a provider more than its maxBatch (nothing was sent; the domains are tried again on the next run)")
    }

    private func clean(_ text: String) -> String {
        ProviderText.clean(text, secrets: base.secrets)
    }
}
