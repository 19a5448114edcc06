import BoBatchHTTP
import Foundation

/// 1API / HEXONET backorders over ISPAPI: one `AddDomainApplication` per domain, reconciled with
/// `QueryDomainApplicationList`.
public struct OneAPIProvider: Provider {
    public let config: OneAPIConfig
    // Internal, not private: the follow-up calls (OneAPIFollowUp.swift) send through them too.
    let transport: any HTTPTransport
    let now: @Sendable () -> Date

    public init(config: OneAPIConfig, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = Date.init) {
        self.config = config
        self.transport = transport
        self.now = now
    }

    public var id: ProviderID { .oneapi }
    /// ISPAPI creates one application per command.
    public var maxBatch: Int { 1 }

    public var endpointDescription: String {
        "\(urlForMessages(config.endpoint)) (\(config.entity.label), entity \(config.entity.rawValue))"
    }

    /// ISPAPI answers and transport errors may quote the command, `s_pw` included.
    public var secrets: [String] { [config.password] }

    public func skipReason(for item: BackorderItem, now: Date) -> String? {
        OneAPICutoff(hours: config.cutoffHours).skipReason(dropTime: item.attributes.dropTime, now: now)
    }

    public func submit(_ items: [BackorderItem]) async -> SubmitResult {
        guard let item = items.first else { return .settled([:]) }
        // The lane checked the cutoff when it picked the item, but backoff waits can carry a send past it.
        if let reason = skipReason(for: item, now: now()) {
            return .settled([item.domain: .skipped(message: reason)])
        }
        let request = OneAPICommand.addBackorder(item.domain).httpRequest(config: config)
        return OneAPIClassifier.submitResult(domain: item.domain, outcome: await send(request), now: now())
    }

    public func lookup(_ items: [BackorderItem]) async -> LookupResult {
        var seen = Set<DomainName>()
        let domains = items.map(\.domain).filter { seen.insert($0).inserted }
        guard !domains.isEmpty else { return .found([:]) }
        // Room for several applications per domain (old, cancelled ones) before the list counts as cut short.
        let limit = min(1000, max(100, domains.count * 10))
        let request = OneAPICommand.queryBackorders(domains, limit: limit).httpRequest(config: config)
        return OneAPIClassifier.lookupResult(asked: domains, limit: limit, outcome: await send(request), now: now())
    }

    /// `StatusDomainApplication` for an application id that `submit` or `lookup` returned. This and `delete` are
    /// outside the `Provider` protocol, so they clean what they return with the shared `ProviderText.clean`.
    public func status(application: String) async throws(OneAPIError) -> OneAPIApplicationStatus {
        let id = try Self.validated(application)
        let request = OneAPICommand.statusApplication(id).httpRequest(config: config)
        return try OneAPIClassifier.applicationStatus(application: id, outcome: await send(request), secrets: secrets, now: now()).get()
    }

    /// `DeleteDomainApplication`. An application that is already gone throws `.code(545)`.
    public func delete(application: String) async throws(OneAPIError) {
        let id = try Self.validated(application)
        let request = OneAPICommand.deleteApplication(id).httpRequest(config: config)
        _ = try OneAPIClassifier.helperAnswer(outcome: await send(request), secrets: secrets, now: now()).get()
    }

    func send(_ request: HTTPRequest) async -> Result<HTTPResponse, TransportError> {
        do {
            return .success(try await transport.send(request))
        } catch {
            return .failure(error)
        }
    }

    private static func validated(_ application: String) throws(OneAPIError) -> String {
        let id = application.trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty, id.count <= 128,
            id.unicodeScalars.allSatisfy({ $0.isASCII && !CharacterSet.whitespacesAndNewlines.contains($0) && !CharacterSet.controlCharacters.contains($0) })
        else {
            throw OneAPIError(kind: .invalidApplicationID, message: "\"\(id.prefix(40))\" is not a 1API application id")
        }
        return id
    }
}
