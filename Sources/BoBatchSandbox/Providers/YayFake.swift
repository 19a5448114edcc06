import Foundation
import Hummingbird

/// Yay.com (seed 001): REST JSON under `/yay`, auth headers `X-Auth-Reseller`, `X-Auth-User`, `X-Auth-Password`.
///
/// - Missing or wrong credentials: 401 `{"result":{},"status_code":401,"status_message":"Unauthorized"}`.
/// - `GET /dom/back-order` → 200 `{"result":[{domain_name,expires_on,uuid,created_on,updated_on}],…}`.
/// - `GET /dom/back-order/{uuid}` → 200 with one object, or 404 `{"result":{},"status_code":404,…}`.
/// - `POST /dom/back-order` `{"domain_name":"x.com"}` → 201 with the new object (uuid included); 409 Conflict if
///   already ordered; 400 Bad Request for a body without `domain_name` or a name that is not pending delete.
///   **Every processed POST is charged** (``SandboxStats/charges``), whatever its answer; requests refused by
///   authentication or by an injected refuse/drop-before fault are not processed, so not charged.
/// - `DELETE /dom/back-order/{uuid}` → 204 (empty body) or 404.
/// - Faults: refuse = 429 with `Retry-After: 1`; account failure = 401.
///
/// The drop (issue 11, ``BackorderDestiny``): every order remembers when it was placed by the sandbox clock, and
/// its `expires_on` is the UTC day of its drop. Yay's list holds *active* back-orders only, so an order leaves
/// `GET /dom/back-order` (and `GET /dom/back-order/{uuid}` answers 404) once the clock passes its drop: Yay says
/// nothing of what became of it, which is why the client calls it `gone`. `DELETE` withdraws an order only before
/// its drop (204, counted by ``SandboxStats/cancels``); after it Yay has already acted, and the fake answers
/// 409 Conflict in the seed's envelope and keeps the order (in ``SandboxServer/truth(provider:)``). DELETE
/// goes through the fault layer as a cancel (faults apply to it as to creates).
final class YayFake: FakeProvider {
    let name = "yay"

    private struct Backorder: Codable {
        var uuid: String
        var domain: String
        var expiresOn: String
        var createdOn: String
        /// By the sandbox clock: what ``BackorderDestiny`` resolves the order from.
        var placedAt: Date

        enum CodingKeys: String, CodingKey {
            case uuid, domain, expiresOn = "expires_on", createdOn = "created_on", placedAt = "placed_at"
        }

        func isActive(at now: Date) -> Bool {
            now < BackorderDestiny.dropTime(of: domain, placedAt: placedAt)
        }
    }

    private struct State: Codable {
        var accounts: [String: [Backorder]] = [:]
        var created = 0
    }

    private let state = Locked(State())
    let pipeline: FaultPipeline

    init(pipeline: FaultPipeline) {
        self.pipeline = pipeline
    }

    func reset() {
        state.withLock { $0 = State() }
    }

    func register(on router: Router<SandboxRequestContext>) {
        router.get("yay/dom/back-order") { request, context in
            try await self.handle("GET /dom/back-order", request, context) { account in
                try await self.run(.lookup, "GET /dom/back-order", account, "", context) { self.list(account) }
            }
        }
        router.post("yay/dom/back-order") { request, context in
            try await self.handle("POST /dom/back-order", request, context) { account in
                let body = try await request.body.collect(upTo: context.maxUploadSize)
                let domain = Self.domainName(in: Data(body.readableBytesView))
                return try await self.run(.create, "POST /dom/back-order", account, domain ?? "", context) {
                    self.create(account, domain)
                }
            }
        }
        router.get("yay/dom/back-order/:uuid") { request, context in
            let uuid = context.parameters.get("uuid") ?? ""
            return try await self.handle("GET /dom/back-order/{uuid}", request, context) { account in
                try await self.run(.lookup, "GET /dom/back-order/{uuid}", account, uuid, context) { self.one(account, uuid) }
            }
        }
        router.delete("yay/dom/back-order/:uuid") { request, context in
            let uuid = context.parameters.get("uuid") ?? ""
            return try await self.handle("DELETE /dom/back-order/{uuid}", request, context) { account in
                try await self.run(.cancel, "DELETE /dom/back-order/{uuid}", account, uuid, context) { self.delete(account, uuid) }
            }
        }
    }

    private static func status(_ code: Int, _ message: String, _ result: JSONValue = .object([])) -> JSONValue {
        .object([("result", result), ("status_code", .int(code)), ("status_message", .string(message))])
    }

    private static func answer(_ code: Int, _ message: String, _ result: JSONValue = .object([])) -> Answer {
        .json(status(code, message, result), status: HTTPResponse.Status(code: code))
    }

    private func handle(_ operation: String, _ request: Request, _ context: SandboxRequestContext,
                        _ body: (String) async throws -> Response) async throws -> Response {
        stats.request(name, operation)
        if injector.accountFailure(name) != nil { return Self.answer(401, "Unauthorized").response }
        func header(_ name: String) -> String? { request.headers.value(named: name) }
        guard let suffix = SandboxCredentials.accountSuffix(header("X-Auth-Reseller"), base: SandboxCredentials.yayReseller),
              header("X-Auth-User") == SandboxCredentials.yayUser + suffix,
              header("X-Auth-Password") == SandboxCredentials.yayPassword + suffix
        else {
            return Self.answer(401, "Unauthorized").response
        }
        let account = SandboxCredentials.yayReseller + suffix
        if injector.overRateLimit(name, account: account) {
            return refuseAnswer(variant: 0, command: operation).response
        }
        return try await body(account)
    }

    private func run(_ kind: RequestKind, _ operation: String, _ account: String, _ key: String,
                     _ context: SandboxRequestContext, _ process: () -> Answer) async throws -> Response {
        try await pipeline.run(self, kind: kind, command: operation, account: account, contentKey: key,
                               context: context, process: { process() }).response
    }

    static func domainName(in body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let name = object["domain_name"] as? String
        else { return nil }
        return name
    }

    private func object(_ item: Backorder, updated: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("domain_name", .string(item.domain)), ("expires_on", .string(item.expiresOn)),
            ("uuid", .string(item.uuid)), ("created_on", .string(item.createdOn)),
        ]
        if updated { members.append(("updated_on", .string(item.createdOn))) }
        return .object(members)
    }

    private func list(_ account: String) -> Answer {
        let now = clock.now()
        let items = state.withLock { $0.accounts[account] ?? [] }
        var result = items.filter { $0.isActive(at: now) }.map { object($0, updated: true) }
        let filler = injector.faults(for: name).hugeList
        if filler > 0 {
            let today = SandboxDates.utcDate(now)
            for index in 0..<filler {
                let domain = "sandbox-filler-" + String(index + 1).leftPadded(to: 6) + ".com"
                let item = Backorder(uuid: StableRandom.uuid(seed: injector.seed, ["yay-filler", String(index)]),
                                     domain: domain, expiresOn: today, createdOn: today, placedAt: now)
                result.append(object(item, updated: true))
            }
        }
        return Self.answer(200, "OK", .array(result))
    }

    private func one(_ account: String, _ uuid: String) -> Answer {
        let now = clock.now()
        guard let item = state.withLock({ $0.accounts[account]?.first { $0.uuid == uuid } }), item.isActive(at: now) else {
            return Self.answer(404, "Not Found")
        }
        return Self.answer(200, "OK", object(item, updated: true))
    }

    private func create(_ account: String, _ requested: String?) -> Answer {
        stats.charge()
        guard let requested else { return Self.answer(400, "Bad Request") }
        let domain = PendingDeleteRule.normalize(requested)
        guard PendingDeleteRule.isPendingDelete(domain) else { return Self.answer(400, "Bad Request") }
        let now = clock.now()
        let created = state.withLock { state -> Backorder? in
            if state.accounts[account, default: []].contains(where: { $0.domain == domain }) { return nil }
            state.created += 1
            let item = Backorder(
                uuid: StableRandom.uuid(seed: injector.seed, ["yay", account, domain, String(state.created)]),
                domain: domain,
                expiresOn: SandboxDates.utcDate(BackorderDestiny.dropTime(of: domain, placedAt: now)),
                createdOn: SandboxDates.utcDate(now),
                placedAt: now
            )
            state.accounts[account, default: []].append(item)
            stats.create(name, domain)
            return item
        }
        guard let created else { return Self.answer(409, "Conflict") }
        return Self.answer(201, "Created", object(created, updated: false))
    }

    private enum Deletion { case removed(String), notHeld, pastDrop }

    private func delete(_ account: String, _ uuid: String) -> Answer {
        let now = clock.now()
        let deletion = state.withLock { state -> Deletion in
            guard let index = state.accounts[account]?.firstIndex(where: { $0.uuid == uuid }) else { return .notHeld }
            let item = state.accounts[account]![index]
            guard item.isActive(at: now) else { return .pastDrop }
            state.accounts[account]!.remove(at: index)
            return .removed(item.domain)
        }
        switch deletion {
        case .removed(let domain):
            stats.cancel(name, domain)
            return Answer(status: .noContent, contentType: "application/json", body: "")
        case .notHeld:
            return Self.answer(404, "Not Found")
        case .pastDrop:
            // Past its drop Yay has acted on the order: there is nothing left to withdraw, and no money back.
            return Self.answer(409, "Conflict")
        }
    }

    func placedOrders() -> [String: Date] {
        state.withLock { state in
            var out: [String: Date] = [:]
            for item in state.accounts.values.joined() {
                out[item.domain] = min(out[item.domain] ?? item.placedAt, item.placedAt)
            }
            return out
        }
    }

    /// `{"created": N, "accounts": {account: [{uuid, domain, expires_on, created_on, placed_at}, ...]}}`, the
    /// placement times in seconds since 1970 by the sandbox clock.
    func snapshot() -> Data? {
        let copy = state.withLock { $0 }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return try? encoder.encode(copy)
    }

    func restore(_ data: Data) throws {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let restored = try decoder.decode(State.self, from: data)
        state.withLock { $0 = restored }
    }

    func refuseAnswer(variant: UInt64, command: String) -> Answer {
        var answer = Self.answer(429, "Too Many Requests")
        answer.headers[.retryAfter] = "1"
        return answer
    }
}
