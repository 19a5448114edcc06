import Foundation
import Hummingbird

/// 1API / HEXONET ISPAPI (seed 003): `POST /1api/api/call.cgi` (GET works too), fields from the query string and
/// the form body, names case-insensitive (`s_entity`, `s_login`, `s_pw`, `command`, `class`, `domain`, …).
///
/// The answer is text: `[RESPONSE]`, `key = value` lines, `EOF`. Its layout varies from answer to answer
/// (deterministically from the seed): `CODE` or `code`, spaces around `=` or not, LF or CRLF, `DESCRIPTION`
/// before or after `CODE`, extra `RUNTIME`/`QUEUETIME` lines. Clients must accept all of them.
///
/// - Wrong `s_login`/`s_pw`, or an `s_entity` other than `1234` (the test system): 530 "Authentication failed".
/// - `AddDomainApplication` with `CLASS=BACKORDER`, `DOMAIN`: 200 with `PROPERTY[APPLICATION][0]`,
///   `PROPERTY[STATUS][0] = REQUESTED`; already ordered: 540 "Attribute value is not unique" (unless `NEW=1`,
///   which, as on the real system, creates a duplicate); not pending delete or invalid: 541 "Invalid attribute
///   value"; no `DOMAIN` or `CLASS`: 504 "Missing required attribute".
/// - `QueryDomainApplicationList` (`CLASS`, `DOMAIN` (with `*` wildcards) or `DOMAIN0…n`, `FIRST` default 0,
///   `LIMIT` default 100, at most 1000): parallel `PROPERTY[APPLICATION|DOMAIN|STATUS|CLASS|CREATEDDATE][i]`
///   plus `TOTAL`, `FIRST`, `LAST`, `LIMIT`, `COUNT`.
/// - `StatusDomainApplication`, `DeleteDomainApplication` (`APPLICATION`): 200, or 545 "Object does not exist".
/// - Statuses (list and status) follow ``BackorderDestiny`` at the sandbox clock. *Chosen*: REQUESTED for the first
///   hour after the create, then ACTIVE until the drop; AUCTION-PENDING while the auction runs (status adds
///   `AUCTION-STATUS`, `AUCTION-ENDDATE`, `AUCTION-CURRENCY` USD, `AUCTION-BESTBID`); SUCCESSFUL (caught) or
///   AUCTION-WON (`AUCTION-PRICE`); FAILED (lost, or redeemed: 1API's vocabulary has no word for a renewal) or
///   AUCTION-LOST.
/// - `DeleteDomainApplication` removes an application only before its drop; after it: 552 "Object status does
///   not allow for operation". Deletes go through the fault pipeline as creates do (a plan's drops apply).
/// - Unknown command: 500 "Invalid command name". Faults: refuse = 421 or 425; account failure = 530 or 546.
final class OneAPIFake: FakeProvider {
    let name = "oneapi"
    static let defaultLimit = 100
    static let maxLimit = 1000

    private struct Application: Codable {
        var id: String
        var domain: String
        var created: String
        /// When the create landed, by the sandbox clock: ``BackorderDestiny`` resolves the order from it.
        var placedAt: Date
    }

    private struct State: Codable {
        var accounts: [String: [Application]] = [:]
        var nextID = 7_000_000
        var answers = 0
    }

    private let state = Locked(State())
    let pipeline: FaultPipeline

    init(pipeline: FaultPipeline) {
        self.pipeline = pipeline
    }

    func reset() {
        state.withLock { $0 = State() }
    }

    func placedOrders() -> [String: Date] {
        state.withLock { state in
            var out: [String: Date] = [:]
            for application in state.accounts.values.joined() {
                out[application.domain] = min(out[application.domain] ?? application.placedAt, application.placedAt)
            }
            return out
        }
    }

    func snapshot() -> Data? {
        // Dates as JSON numbers (the default): they round-trip exactly, so a restored order resolves the same.
        state.withLock { try? JSONEncoder().encode($0) }
    }

    func restore(_ data: Data) throws {
        let restored = try JSONDecoder().decode(State.self, from: data)
        state.withLock { $0 = restored }
    }

    func register(on router: Router<SandboxRequestContext>) {
        router.post("1api/api/call.cgi") { request, context in try await self.handle(request, context) }
        router.get("1api/api/call.cgi") { request, context in try await self.handle(request, context) }
    }

    /// One ISPAPI answer before layout.
    struct Reply {
        var code: Int
        var description: String
        var properties: [(String, [String])] = []
    }

    private static let canonicalCommands = [
        "AddDomainApplication", "QueryDomainApplicationList", "StatusDomainApplication", "DeleteDomainApplication",
    ]

    private func handle(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        var fields = FormFields(encoded: request.uri.query ?? "")
        if request.method == .post {
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            fields.append(contentsOf: FormFields(encoded: String(buffer: body)))
        }
        func field(_ name: String) -> String? { fields.value(caseInsensitive: name) }
        let sent = field("command") ?? ""
        let command = Self.canonicalCommands.first { $0.lowercased() == sent.lowercased() } ?? sent
        stats.request(name, command.isEmpty ? "(none)" : command)

        if let failure = injector.accountFailure(name) {
            return text(failure == .credentials
                ? Reply(code: 530, description: "Authentication failed")
                : Reply(code: 546, description: "Credit limit exceeded")).response
        }
        guard let suffix = SandboxCredentials.accountSuffix(field("s_login"), base: SandboxCredentials.oneapiLogin),
              field("s_pw") == SandboxCredentials.oneapiPassword + suffix,
              field("s_entity") == SandboxCredentials.oneapiEntity
        else {
            return text(Reply(code: 530, description: "Authentication failed")).response
        }
        let account = SandboxCredentials.oneapiLogin + suffix
        if injector.overRateLimit(name, account: account) {
            return refuseAnswer(variant: 0, command: command).response
        }

        switch command {
        case "AddDomainApplication":
            let domain = PendingDeleteRule.normalize(field("domain") ?? "")
            return try await pipeline.run(self, kind: .create, command: command, account: account,
                                          contentKey: domain, context: context) {
                text(add(account, domain: domain, fields: fields))
            }.response
        case "DeleteDomainApplication":
            // A cancel: a fault plan's drops apply to it as to a create; hold gates (for creates) do not.
            return try await pipeline.run(self, kind: .cancel, command: command, account: account,
                                          contentKey: "delete:" + (field("application") ?? ""), context: context) {
                text(delete(account, id: field("application"), now: clock.now()))
            }.response
        case "QueryDomainApplicationList", "StatusDomainApplication":
            return try await pipeline.run(self, kind: .lookup, command: command, account: account,
                                          contentKey: fields.pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "&"),
                                          context: context) {
                command == "QueryDomainApplicationList"
                    ? text(query(account, fields: fields, now: clock.now()))
                    : text(status(account, id: field("application"), now: clock.now()))
            }.response
        case "":
            return text(Reply(code: 504, description: "Missing required attribute; COMMAND")).response
        default:
            return text(Reply(code: 500, description: "Invalid command name; \(command)")).response
        }
    }

    private func add(_ account: String, domain: String, fields: FormFields) -> Reply {
        guard let applicationClass = fields.value(caseInsensitive: "class"), !applicationClass.isEmpty else {
            return Reply(code: 504, description: "Missing required attribute; CLASS")
        }
        guard applicationClass.uppercased() == "BACKORDER" else {
            return Reply(code: 541, description: "Invalid attribute value; CLASS")
        }
        guard !domain.isEmpty else { return Reply(code: 504, description: "Missing required attribute; DOMAIN") }
        guard PendingDeleteRule.isPendingDelete(domain) else {
            return Reply(code: 541, description: "Invalid attribute value; DOMAIN (\(domain) is not in pending delete)")
        }
        let duplicateWanted = fields.value(caseInsensitive: "new") == "1"
        let created = state.withLock { state -> Application? in
            if !duplicateWanted, state.accounts[account, default: []].contains(where: { $0.domain == domain }) {
                return nil
            }
            state.nextID += 1
            let now = clock.now()
            let item = Application(id: String(state.nextID), domain: domain,
                                   created: SandboxDates.utcDateTime(now), placedAt: now)
            state.accounts[account, default: []].append(item)
            stats.create(name, domain)
            return item
        }
        guard let created else { return Reply(code: 540, description: "Attribute value is not unique; DOMAIN") }
        return Reply(code: 200, description: "Command completed successfully", properties: [
            ("APPLICATION", [created.id]), ("CLASS", ["BACKORDER"]), ("DOMAIN", [created.domain]),
            ("STATUS", ["REQUESTED"]), ("CREATEDDATE", [created.created]),
        ])
    }

    private func query(_ account: String, fields: FormFields, now: Date) -> Reply {
        if let applicationClass = fields.value(caseInsensitive: "class"), !applicationClass.isEmpty,
           applicationClass.uppercased() != "BACKORDER" {
            return Reply(code: 200, description: "Command completed successfully",
                         properties: [("TOTAL", ["0"]), ("FIRST", ["0"]), ("LAST", ["-1"]), ("COUNT", ["0"])])
        }
        var patterns: [String] = []
        if let one = fields.value(caseInsensitive: "domain"), !one.isEmpty { patterns.append(one.lowercased()) }
        for (name, value) in fields.pairs {
            let lower = name.lowercased()
            if lower.hasPrefix("domain"), lower.count > 6, lower.dropFirst(6).allSatisfy(\.isNumber), !value.isEmpty {
                patterns.append(value.lowercased())
            }
        }
        var items = state.withLock { $0.accounts[account] ?? [] }
        let filler = injector.faults(for: name).hugeList
        if filler > 0 {
            let created = SandboxDates.utcDateTime(now)
            items += (0..<filler).map {
                Application(id: String(90_000_000 + $0), domain: "sandbox-filler-" + String($0 + 1).leftPadded(to: 6) + ".com",
                            created: created, placedAt: now)
            }
        }
        if !patterns.isEmpty {
            // Exact names by set, wildcards by glob: a refresh filters by 100 names at once.
            let exact = Set(patterns.filter { !$0.contains("*") })
            let wildcards = patterns.filter { $0.contains("*") }
            items = items.filter { item in
                exact.contains(item.domain) || wildcards.contains { Self.glob($0, matches: item.domain) }
            }
        }
        let first = max(0, Int(fields.value(caseInsensitive: "first") ?? "") ?? 0)
        let limit = min(Self.maxLimit, max(1, Int(fields.value(caseInsensitive: "limit") ?? "") ?? Self.defaultLimit))
        let page = first < items.count ? Array(items[first..<min(items.count, first + limit)]) : []
        return Reply(code: 200, description: "Command completed successfully", properties: [
            ("APPLICATION", page.map(\.id)), ("CLASS", page.map { _ in "BACKORDER" }), ("DOMAIN", page.map(\.domain)),
            ("STATUS", page.map { Self.status(of: $0, now: now).word }), ("CREATEDDATE", page.map(\.created)),
            ("TOTAL", [String(items.count)]), ("FIRST", [String(first)]), ("LAST", [String(first + page.count - 1)]),
            ("LIMIT", [String(limit)]), ("COUNT", [String(page.count)]),
        ])
    }

    private func status(_ account: String, id: String?, now: Date) -> Reply {
        guard let id, !id.isEmpty else { return Reply(code: 504, description: "Missing required attribute; APPLICATION") }
        guard let item = state.withLock({ $0.accounts[account]?.first { $0.id == id } }) else {
            return Reply(code: 545, description: "Object does not exist; APPLICATION \(id)")
        }
        let (word, phase) = Self.status(of: item, now: now)
        var properties: [(String, [String])] = [
            ("APPLICATION", [item.id]), ("CLASS", ["BACKORDER"]), ("DOMAIN", [item.domain]),
            ("STATUS", [word]), ("CREATEDDATE", [item.created]),
        ]
        if phase.wasAuction || phase.stage == .inAuction, let price = phase.price {
            let amount = "\(price).00"
            properties.append(("AUCTION-STATUS", [word]))
            properties.append(("AUCTION-CURRENCY", ["USD"]))
            properties.append(("AUCTION-BESTBID", [amount]))
            if let ends = phase.auctionEnds { properties.append(("AUCTION-ENDDATE", [SandboxDates.utcDateTime(ends)])) }
            if phase.stage == .won { properties.append(("AUCTION-PRICE", [amount])) }
        }
        return Reply(code: 200, description: "Command completed successfully", properties: properties)
    }

    /// The application's STATUS word at `now` (see the type's comment), with the phase it comes from.
    private static func status(of item: Application, now: Date) -> (word: String, phase: BackorderDestiny.Phase) {
        let phase = BackorderDestiny.phase(of: item.domain, provider: "oneapi", placedAt: item.placedAt, now: now)
        switch phase.stage {
        case .waiting: return (now.timeIntervalSince(item.placedAt) < 3600 ? "REQUESTED" : "ACTIVE", phase)
        case .inAuction: return ("AUCTION-PENDING", phase)
        case .won: return (phase.wasAuction ? "AUCTION-WON" : "SUCCESSFUL", phase)
        case .lost: return (phase.wasAuction ? "AUCTION-LOST" : "FAILED", phase)
        case .redeemed: return ("FAILED", phase)
        }
    }

    /// Removes the application while it waits for its drop; after the drop 1API has acted on it: 552.
    private func delete(_ account: String, id: String?, now: Date) -> Reply {
        guard let id, !id.isEmpty else { return Reply(code: 504, description: "Missing required attribute; APPLICATION") }
        enum Outcome { case removed(String), absent, tooLate }
        let outcome = state.withLock { state -> Outcome in
            guard let index = state.accounts[account]?.firstIndex(where: { $0.id == id }) else { return .absent }
            let item = state.accounts[account]![index]
            guard now < BackorderDestiny.dropTime(of: item.domain, placedAt: item.placedAt) else { return .tooLate }
            state.accounts[account]!.remove(at: index)
            return .removed(item.domain)
        }
        switch outcome {
        case .removed(let domain):
            stats.cancel(name, domain)
            return Reply(code: 200, description: "Command completed successfully", properties: [("DOMAIN", [domain])])
        case .absent:
            return Reply(code: 545, description: "Object does not exist; APPLICATION \(id)")
        case .tooLate:
            return Reply(code: 552, description: "Object status does not allow for operation; APPLICATION \(id)")
        }
    }

    /// `*` matches any run of characters; everything else literally.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == text }
        var rest = Substring(text)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts.last!) && rest.count >= parts.last!.count
    }

    /// The reply laid out in one of the layouts real ISPAPI answers use.
    private func text(_ reply: Reply) -> Answer {
        let counter = state.withLock { state -> Int in
            state.answers += 1
            return state.answers
        }
        let style = StableRandom.value(seed: injector.seed, ["oneapi-layout", String(counter)])
        let newline = style & 1 == 0 ? "\n" : "\r\n"
        let upper = style & 2 == 0
        let equals = style & 4 == 0 ? " = " : "="
        func key(_ name: String) -> String { upper ? name.uppercased() : name.lowercased() }
        var lines = ["\(key("code"))\(equals)\(reply.code)", "\(key("description"))\(equals)\(reply.description)"]
        if style & 8 != 0 { lines.reverse() }
        if style & 16 != 0 {
            lines.append("\(key("queuetime"))\(equals)0")
            lines.append("\(key("runtime"))\(equals)0.0\(style % 90 + 10)")
        }
        for (name, values) in reply.properties {
            for (index, value) in values.enumerated() {
                lines.append("\(key("property"))[\(key(name))][\(index)]\(equals)\(value)")
            }
        }
        let body = "[RESPONSE]" + newline + lines.joined(separator: newline) + newline + "EOF" + newline
        return .text(body)
    }

    func refuseAnswer(variant: UInt64, command: String) -> Answer {
        variant % 2 == 0
            ? text(Reply(code: 421, description: "Command failed due to server error. Client should try again"))
            : text(Reply(code: 425, description: "Service temporarily locked; usage exceeded"))
    }
}
