@testable import BoBatch
import Foundation

/// A provider whose follow-up calls are scripted in memory: holds orders (cancel removes them), answers refresh
/// from `fates`, counts every call and every effective cancel.
final class FollowUpFakeProvider: Provider, @unchecked Sendable {
    let id: ProviderID
    let maxBatch = 100
    var maxLookupBatch = 100
    let endpointDescription = "memory"
    let secrets: [String] = []
    let support: FollowUpSupport
    private let lock = NSLock()
    private var held: Set<DomainName> = []
    private var refreshScript: [RefreshResult] = []
    private var cancelScript: [CancelResult] = []
    private var lookupScript: [LookupResult] = []
    /// The fate each domain reports (default: waiting).
    var fates: [String: FateReport] = [:]
    /// Domains whose cancel the provider refuses.
    var refuseCancel: [String: String] = [:]
    var supportsLookup = true
    private(set) var refreshes: [[String]] = []
    private(set) var cancelRequests: [[String]] = []
    private(set) var lookups = 0
    /// Orders withdrawn per domain (a cancel that removed a held order).
    private(set) var effectiveCancels: [String: Int] = [:]

    init(id: ProviderID = .dynadot, refreshBatch: Int? = Int.max, cancelBatch: Int? = 100) {
        self.id = id
        support = FollowUpSupport(refreshBatch: refreshBatch, refreshNote: refreshBatch == nil ? "nothing to refresh here" : nil,
                                  cancelBatch: cancelBatch, cancelNote: cancelBatch == nil ? "this API offers no cancel" : nil)
    }

    var followUp: FollowUpSupport { support }

    func hold(_ names: [String]) { lock.withLock { for n in names { held.insert(DomainName(validatedASCII: n)) } } }
    func isHeld(_ name: String) -> Bool { lock.withLock { held.contains(DomainName(validatedASCII: name)) } }
    func scriptRefresh(_ results: RefreshResult...) { lock.withLock { refreshScript.append(contentsOf: results) } }
    func scriptCancel(_ results: CancelResult...) { lock.withLock { cancelScript.append(contentsOf: results) } }
    func scriptLookup(_ results: LookupResult...) { lock.withLock { lookupScript.append(contentsOf: results) } }
    /// Withdraws without answering, as a cancel whose answer was lost.
    func withdrawSilently(_ names: [String]) { lock.withLock { for n in names { removeHeld(DomainName(validatedASCII: n)) } } }

    private func removeHeld(_ domain: DomainName) {
        if held.remove(domain) != nil { effectiveCancels[domain.ascii, default: 0] += 1 }
    }

    func submit(_ items: [BackorderItem]) async -> SubmitResult {
        .settled(Dictionary(uniqueKeysWithValues: items.map { ($0.domain, Verdict.accepted(reference: nil, message: "added")) }))
    }

    func lookup(_ items: [BackorderItem]) async -> LookupResult {
        lock.withLock {
            lookups += 1
            if !lookupScript.isEmpty { return lookupScript.removeFirst() }
            guard supportsLookup else { return .unsupported(reason: "no lookup here") }
            var found: [DomainName: String] = [:]
            for item in items where held.contains(item.domain) { found[item.domain] = "" }
            return .found(found)
        }
    }

    func refresh(_ orders: [PlacedOrder], now: Date) async -> RefreshResult {
        lock.withLock {
            refreshes.append(orders.map(\.domain.ascii))
            if !refreshScript.isEmpty { return refreshScript.removeFirst() }
            return .fates(Dictionary(uniqueKeysWithValues: orders.map { ($0.domain, fates[$0.domain.ascii] ?? FateReport(fate: .waiting, detail: "waiting")) }))
        }
    }

    func cancel(_ orders: [PlacedOrder]) async -> CancelResult {
        lock.withLock {
            cancelRequests.append(orders.map(\.domain.ascii))
            if !cancelScript.isEmpty {
                let scripted = cancelScript.removeFirst()
                // A lost answer after the work was done: the orders are withdrawn all the same.
                if case .maybeProcessed(let reason) = scripted, reason.hasPrefix("done:") { for o in orders { removeHeld(o.domain) } }
                return scripted
            }
            var verdicts: [DomainName: CancelVerdict] = [:]
            for order in orders {
                if let reason = refuseCancel[order.domain.ascii] {
                    verdicts[order.domain] = .refused(message: reason)
                } else {
                    removeHeld(order.domain)
                    verdicts[order.domain] = .cancelled(message: "deleted")
                }
            }
            return .settled(verdicts)
        }
    }
}
