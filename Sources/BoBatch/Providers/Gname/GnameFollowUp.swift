import BoBatchHTTP
import Foundation

// After the create (issue 11): Gname answers for one domain per `/api/backorder/info` call, and its API (seed 000,
// PROVIDERS.md) has no call that withdraws a backorder.

extension GnameProvider {
    /// Gname publishes no currency field; its backorder prices are in yuan (the site's and the API's only currency).
    static let currency = "CNY"

    /// Said to a user who asks `cancel` for Gname orders: the API has add, bulk and info, nothing that withdraws.
    static let cancelNote =
        "Gname's API offers no cancel (it documents /api/backorder/add, /bulk and /info only): withdraw the backorder "
        + "in Gname's web console (gname.com, member centre, backorders) before the drop, while it is still \"in backorder\""

    public var followUp: FollowUpSupport {
        FollowUpSupport(refreshBatch: 1, cancelBatch: nil, cancelNote: Self.cancelNote)
    }

    /// One `/api/backorder/info` per order (the lane hands one at a time: `refreshBatch` 1, so each call is paced).
    /// `now` is not needed: Gname says where the order stands, and the request is signed with the real time.
    public func refresh(_ orders: [PlacedOrder], now _: Date) async -> RefreshResult {
        var reports: [DomainName: FateReport] = [:]
        for order in orders where reports[order.domain] == nil {
            switch await refreshOne(order.domain) {
            case .report(let report): reports[order.domain] = report
            // Stop at the first failure: the orders asked before it are not worth an unpaced retry here.
            case .stop(let result): return result
            }
        }
        return .fates(reports)
    }

    private enum OneRefresh {
        case report(FateReport)
        case stop(RefreshResult)
    }

    private func refreshOne(_ domain: DomainName) async -> OneRefresh {
        let request = makeRequest(path: "/api/backorder/info", fields: ["ym": domain.ascii], idempotent: true)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            // A status call has nothing to settle: a lost answer is only "ask again later".
            return .stop(error.kind == .neverSent
                ? .refused(reason: "Gname was not reached: \(error.message)", retryAfterSeconds: nil)
                : .unavailable(reason: "backorder/info for \(domain.ascii): \(error.message)"))
        }
        // A refusal (429, 503 with Retry-After, Gname's "frequency too high") is the lane's to wait out.
        if case .refused(let reason, let wait)? = GnameClassifier.httpFailure(response, path: "/api/backorder/info", now: now()) {
            return .stop(.refused(reason: reason, retryAfterSeconds: wait))
        }
        if let answer = GnameAnswer.parse(response.body), answer.code != 1,
           GnameClassifier.kind(code: answer.code, message: answer.message) == .busy {
            return .stop(.refused(reason: "Gname is busy or rate limiting: \(GnameClassifier.quoted(answer.message))", retryAfterSeconds: nil))
        }
        switch GnameClassifier.classifyInfo(response, domain: domain, now: now()) {
        case .found(let status): return .report(Self.fateReport(status))
        case .absent(let message):
            // Gname keeps finished backorders (won, lost, redeemed) on record, so no record is an order that was
            // withdrawn in the web console, or one Gname dropped without saying why.
            return .report(FateReport(
                fate: .gone,
                detail: "Gname has no backorder record for it (\(GnameClassifier.quoted(message))); withdrawn in Gname's web console?"))
        case .unavailable(let reason): return .stop(.unavailable(reason: "\(domain.ascii): \(reason)"))
        case .halt(let reason, let fix): return .stop(.halt(reason: reason, fix: fix))
        }
    }

    /// `zt` → fate: 0 waiting, 1 and 2 won, 3 in auction, 4, 5 and 7 lost, 6 redeemed; anything else unknown
    /// (asked again next time). `ztstr` is the detail, `qian` the price and `dqian` the frozen deposit, in CNY.
    static func fateReport(_ status: GnameBackorderStatus) -> FateReport {
        let fate: Fate
        switch status.phase {
        case .inBackorder: fate = .waiting
        case .wonDirectly, .wonAtAuction: fate = .won
        case .inAuction: fate = .inAuction
        case .wonByOthers, .auctionLost, .dropCatchLost: fate = .lost
        case .redeemed: fate = .redeemed
        case .other: fate = .unknown
        }
        var detail = status.phaseText ?? status.phase.description
        if case .other = status.phase { detail = "Gname answered an undocumented zt (\(status.phase)): \(detail)" }
        let hasMoney = status.budget != nil || status.frozen != nil
        return FateReport(
            fate: fate, detail: detail, price: status.budget, currency: hasMoney ? currency : nil, frozen: status.frozen,
            endsAt: nil, reference: status.id.isEmpty ? nil : status.id)
    }
}
