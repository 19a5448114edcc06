import Foundation
import Hummingbird

/// DNSPod "get domain back" (seed 004): `POST /dnspod/Domain.Acquiresend` (`login_token`, `format=json`, `domain`,
/// `email`), `/dnspod/Domain.Acquire` (`domain` → the WHOIS `emails`, masked), `/dnspod/Domain.Acquirevalidate`
/// (`domain`, `code`). Answers `{"status":{"code":"1","message":"Action completed successful","created_at":…}}`;
/// `code` is a string.
///
/// Checks, in order (*chosen* where the real API is undocumented):
/// 1. *Chosen*: a `User-Agent` of the form `Program/Version (contact@example.com)` is required (DNSPod asks for
///    one and bans clients without it); otherwise code "-7" "User-Agent required: use Program/Version (contact
///    email)", an account-level refusal.
/// 2. `login_token` must be `ID,TOKEN` = ``SandboxCredentials/dnspodLoginToken``: else "-1" "Login failed".
/// 3. The domain: non-ASCII "7"; syntax "6" (over-long "8"); `.tk` "9"; not pending delete "10" "Domain not
///    exists." (the fake treats pending-delete names as held at another DNSPod account).
/// 4. `Acquiresend` needs a valid `email` (or one of the masked forms `Domain.Acquire` lists): else "16". Every
///    accepted send mails a new code and counts as a create, so a repeated send shows as 2 in the stats.
/// 5. `Acquirevalidate`: no send for the domain "10"; wrong code *chosen* "17" "Invalid verify code.".
/// Faults: refuse = "-2" "API usage is limited"; account failure = "-1" or "-8" (banned for a while).
final class DNSPodFake: FakeProvider {
    let name = "dnspod"

    private struct State: Codable {
        /// account → domain → verification codes mailed so far
        var sends: [String: [String: [String]]] = [:]
        var acquired: [String: Set<String>] = [:]
    }

    private let state = Locked(State())
    let pipeline: FaultPipeline

    init(pipeline: FaultPipeline) {
        self.pipeline = pipeline
    }

    func reset() {
        state.withLock { $0 = State() }
    }

    // The mails sent (and domains taken back) are the fake's memory: kept across in-process sandboxes, so a
    // `reclaim --sandbox` after a `submit --sandbox` sees the codes already mailed. No `placedOrders()`: a
    // get-domain-back is not a backorder, nothing about it drops or resolves.
    func snapshot() -> Data? {
        state.withLock { try? JSONEncoder().encode($0) }
    }

    func restore(_ data: Data) throws {
        let restored = try JSONDecoder().decode(State.self, from: data)
        state.withLock { $0 = restored }
    }

    func register(on router: Router<SandboxRequestContext>) {
        for command in ["Domain.Acquiresend", "Domain.Acquire", "Domain.Acquirevalidate"] {
            router.post("dnspod/\(command)") { request, context in try await self.handle(command, request, context) }
        }
    }

    /// The codes mailed so far for `domain` (last one last), so a test can complete `Domain.Acquirevalidate`.
    func verificationCodes(for domain: String) -> [String] {
        state.withLock { state in state.sends.values.flatMap { $0[PendingDeleteRule.normalize(domain)] ?? [] } }
    }

    private func status(_ code: String, _ message: String, extra: [(String, JSONValue)] = []) -> Answer {
        let status: JSONValue = .object([
            ("code", .string(code)), ("message", .string(message)),
            ("created_at", .string(SandboxDates.chinaDateTime(Date()))),
        ])
        return .json(.object([("status", status)] + extra))
    }

    static func isAcceptableUserAgent(_ value: String?) -> Bool {
        guard let value, let slash = value.firstIndex(of: "/"), let open = value.firstIndex(of: "("),
              value.hasSuffix(")"), slash < open, slash > value.startIndex
        else { return false }
        let version = value[value.index(after: slash)..<open].trimmingCharacters(in: .whitespaces)
        let contact = value[value.index(after: open)..<value.index(before: value.endIndex)]
        return !version.isEmpty && !version.contains(" ") && contact.contains("@")
    }

    private func handle(_ command: String, _ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        stats.request(name, command)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let fields = FormFields(encoded: String(buffer: body))

        guard Self.isAcceptableUserAgent(request.headers[.userAgent]) else {
            return status("-7", "User-Agent required: use Program/Version (contact email)").response
        }
        if let failure = injector.accountFailure(name) {
            return (failure == .credentials
                ? status("-1", "Login failed")
                : status("-8", "The account is banned for a while because of too many failed logins")).response
        }
        let token = fields["login_token"] ?? ""
        let parts = token.split(separator: ",", maxSplits: 1).map(String.init)
        let expected = SandboxCredentials.dnspodLoginToken.split(separator: ",", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == expected[0],
              let suffix = SandboxCredentials.accountSuffix(parts[1], base: expected[1])
        else {
            return status("-1", "Login failed").response
        }
        let account = expected[0] + "," + expected[1] + suffix
        if injector.overRateLimit(name, account: account) {
            return refuseAnswer(variant: 0, command: command).response
        }

        let rawDomain = fields["domain"] ?? ""
        let domain = PendingDeleteRule.normalize(rawDomain)
        let kind: RequestKind = command == "Domain.Acquiresend" ? .create : .lookup
        return try await pipeline.run(self, kind: kind, command: command, account: account,
                                      contentKey: domain, context: context) {
            if let (code, message) = Self.domainProblem(rawDomain) { return status(code, message) }
            switch command {
            case "Domain.Acquiresend": return send(account, domain: domain, email: fields["email"])
            case "Domain.Acquire":
                return status("1", "Action completed successful", extra: [("emails", .array(Self.emails(for: domain).map(JSONValue.string)))])
            default: return validate(account, domain: domain, code: fields["code"])
            }
        }.response
    }

    static func domainProblem(_ raw: String) -> (String, String)? {
        let domain = PendingDeleteRule.normalize(raw)
        if domain.isEmpty { return ("6", "Invalid domain.") }
        if domain.unicodeScalars.contains(where: { !$0.isASCII }) { return ("7", "No Chinese character allowed in the domain.") }
        if domain.utf8.count > 253 || domain.split(separator: ".").contains(where: { $0.utf8.count > 63 }) {
            return ("8", "Invalid domain.")
        }
        switch PendingDeleteRule.verdict(for: domain) {
        case .invalidName: return ("6", "Invalid domain.")
        case .registered, .unsupportedTLD: return ("10", "Domain not exists.")
        case .pendingDelete:
            return domain.hasSuffix(".tk") ? ("9", "Domains that end with \u{201D}.tk\u{201D} are not supported.No offense.") : nil
        }
    }

    static func emails(for domain: String) -> [String] {
        ["a***n@\(domain)", "h***r@\(domain)"]
    }

    static func isAcceptableEmail(_ email: String, domain: String) -> Bool {
        if emails(for: domain).contains(email) { return true }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains(" "), !parts[0].contains("*") else { return false }
        return PendingDeleteRule.isValidHostName(String(parts[1]).lowercased())
    }

    private func send(_ account: String, domain: String, email: String?) -> Answer {
        guard let email, Self.isAcceptableEmail(email, domain: domain) else {
            return status("16", "Invalid email address.")
        }
        state.withLock { state in
            let count = state.sends[account]?[domain]?.count ?? 0
            let number = StableRandom.value(seed: injector.seed, ["dnspod-code", account, domain, String(count)]) % 1_000_000
            state.sends[account, default: [:]][domain, default: []].append(String(number).leftPadded(to: 6))
        }
        stats.create(name, domain)
        return status("1", "Action completed successful")
    }

    private func validate(_ account: String, domain: String, code: String?) -> Answer {
        let result = state.withLock { state -> Answer in
            guard let codes = state.sends[account]?[domain], !codes.isEmpty else { return status("10", "Domain not exists.") }
            guard let code, code == codes.last else { return status("17", "Invalid verify code.") }
            state.acquired[account, default: []].insert(domain)
            return status("1", "Action completed successful")
        }
        return result
    }

    func refuseAnswer(variant: UInt64, command: String) -> Answer {
        status("-2", "API usage is limited")
    }
}
