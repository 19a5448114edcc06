import BoBatchHTTP
import Foundation

/// Gname's signed form API: `/api/backorder/add` (one domain a call) or, with `GNAME_BULK=1`,
/// `/api/backorder/bulk` (up to 100); `/api/backorder/info` to reconcile and to report outcomes.
///
/// Every call is signed with the APPKEY and the current time, so a clock far off fails every call:
/// such failures halt the lane with the measured skew rather than being retried.
public struct GnameProvider: Provider {
    public let id = ProviderID.gname
    public let config: GnameConfig
    // Internal, not private: the follow-up calls (GnameFollowUp.swift) send through them too.
    let transport: any HTTPTransport
    let now: @Sendable () -> Date

    public init(config: GnameConfig, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = Date.init) {
        self.config = config
        self.transport = transport
        self.now = now
    }

    public var maxBatch: Int { config.bulk ? 100 : 1 }
    public var endpointDescription: String { urlForMessages(config.endpoint) }
    /// Gname echoes request fields in some messages; the APPKEY must never come back.
    public var secrets: [String] { [config.appKey] }

    public func submit(_ items: [BackorderItem]) async -> SubmitResult {
        let domains = items.map(\.domain)
        guard !domains.isEmpty else { return .settled([:]) }
        // A bulk call of one would work too; /add keeps single domains on the documented one-domain path.
        let bulk = config.bulk && domains.count > 1
        var fields = ["td": config.channel]
        if let price = config.maxPrice { fields["qian"] = price }
        fields["ym"] = domains.map(\.ascii).joined(separator: "\n")
        let request = makeRequest(path: bulk ? "/api/backorder/bulk" : "/api/backorder/add", fields: fields, idempotent: false)
        do {
            let response = try await transport.send(request)
            return GnameClassifier.classifySubmit(response, domains: domains, bulk: bulk, now: now())
        } catch {
            return GnameClassifier.transportFailure(error)
        }
    }

    /// One `/info` call per domain: the lane asks about one at a time so that each call is paced.
    public var maxLookupBatch: Int { 1 }

    public func lookup(_ items: [BackorderItem]) async -> LookupResult {
        // Gname has no list call: one info call per domain, one after another, stopping at the first that fails.
        var found: [DomainName: String] = [:]
        for item in items {
            switch await status(of: item.domain) {
            case .found(let status): found[item.domain] = status.id
            case .absent: continue
            case .unavailable(let reason): return .unavailable(reason: "\(item.domain.ascii): \(reason)")
            case .halt(let reason, let fix): return .halt(reason: reason, fix: fix)
            }
        }
        return .found(found)
    }

    /// What Gname knows of this account's backorder for `domain`: its phase (won, lost, in auction, ...) for reports.
    /// Outside the `Provider` protocol, so it cleans its own strings with the shared `ProviderText.clean`.
    public func status(of domain: DomainName) async -> GnameStatusLookup {
        let request = makeRequest(path: "/api/backorder/info", fields: ["ym": domain.ascii], idempotent: true)
        let answer: GnameStatusLookup
        do {
            let response = try await transport.send(request)
            answer = GnameClassifier.classifyInfo(response, domain: domain, now: now())
        } catch {
            answer = .unavailable(reason: "backorder/info: \(error.message)")
        }
        func clean(_ text: String) -> String { ProviderText.clean(text, secrets: secrets) }
        switch answer {
        case .found(let status): return .found(status)
        case .absent(let message): return .absent(message: clean(message))
        case .unavailable(let reason): return .unavailable(reason: clean(reason))
        case .halt(let reason, let fix): return .halt(reason: clean(reason), fix: clean(fix))
        }
    }

    /// A signed POST: `appid` and `gntime` join `fields`, the signature covers exactly what the body carries.
    func makeRequest(path: String, fields: [String: String], idempotent: Bool) -> HTTPRequest {
        var signed = fields
        signed["appid"] = config.appID
        signed["gntime"] = String(Int(now().timeIntervalSince1970.rounded(.down)))
        let body = GnameSigner.formBody(signed, appKey: config.appKey)
        var base = config.endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return HTTPRequest(
            method: .post, url: base + path,
            headers: [
                (name: "Content-Type", value: "application/x-www-form-urlencoded"),
                (name: "Accept", value: "application/json"),
            ],
            body: Array(body.utf8), idempotent: idempotent, secrets: [config.appKey])
    }
}
