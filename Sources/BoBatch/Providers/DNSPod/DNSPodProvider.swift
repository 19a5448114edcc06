import BoBatchHTTP
import Foundation

/// DNSPod's "get domain back": asks DNSPod to mail a verification code to the domain's WHOIS address, so a
/// caught domain whose old owner still hosts DNS at DNSPod can be moved to this account. Not a backorder.
public struct DNSPodProvider: Provider {
    public let config: DNSPodConfig
    private let transport: any HTTPTransport
    /// Reads an HTTP-date `Retry-After`.
    private let now: @Sendable () -> Date

    public init(config: DNSPodConfig, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = Date.init) {
        self.config = config
        self.transport = transport
        self.now = now
    }

    public var id: ProviderID { .dnspod }
    /// `Domain.Acquiresend` takes one domain.
    public var maxBatch: Int { 1 }

    public var endpointDescription: String {
        "\(DNSPodCommand.url(endpoint: urlForMessages(config.endpoint), action: "Domain.Acquiresend")) (get domain back)"
    }

    /// The login token, whole and in its token part (a message may quote either).
    public var secrets: [String] { config.secrets }

    /// Items without a usable email are never sent, so the lane records why before spending a request.
    public func skipReason(for item: BackorderItem, now: Date) -> String? {
        DNSPodEmailChoice.skipReason(for: DNSPodEmailChoice.choose(for: item, config: config))
    }

    public func submit(_ items: [BackorderItem]) async -> SubmitResult {
        guard let item = items.first else { return .settled([:]) }
        let email: String
        let source: DNSPodEmailChoice.Source
        let choice = DNSPodEmailChoice.choose(for: item, config: config)
        switch choice {
        case .use(let address, let from):
            (email, source) = (address, from)
        case .askDNSPod:
            // A read before the one create: it lists the addresses DNSPod will accept for this domain.
            let offered = DNSPodClassifier.offer(
                domain: item.domain, outcome: await send(DNSPodCommand.acquire(item.domain).httpRequest(config: config)), now: now())
            switch offered {
            case .email(let address): (email, source) = (address, .offered)
            case .settled(let result): return result
            }
        case .none, .invalid:
            return .settled([item.domain: .skipped(message: DNSPodEmailChoice.skipReason(for: choice) ?? DNSPodEmailChoice.noEmailMessage)])
        }
        let request = DNSPodCommand.acquireSend(item.domain, email: email).httpRequest(config: config)
        return DNSPodClassifier.sendResult(domain: item.domain, email: email, source: source, outcome: await send(request), now: now())
    }

    public var canLookUp: Bool { false }

    public func lookup(_ items: [BackorderItem]) async -> LookupResult {
        .unsupported(reason: "DNSPod's get-domain-back has no lookup: whether a code was mailed cannot be asked, only seen in the mailbox")
    }

    private func send(_ request: HTTPRequest) async -> Result<HTTPResponse, TransportError> {
        do {
            return .success(try await transport.send(request))
        } catch {
            return .failure(error)
        }
    }
}
