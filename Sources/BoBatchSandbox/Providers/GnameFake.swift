import Foundation
import Hummingbird

/// Gname (seed 000): `POST /gname/api/backorder/{add,info,bulk}`, form-encoded, signed, JSON envelope
/// `{"code":…,"msg":…,"data":…}` written the way PHP's `json_encode` writes it (`\/`, `\uXXXX`).
///
/// Played behaviour (*chosen* where undocumented):
/// - `appid` unknown: code -1 "appid does not exist". `gntime` not an integer or more than 300 s away from the
///   server clock: code -1 "gntime error: request time differs from server time … by more than 300 seconds".
///   Wrong `gntoken` (see ``GnameSignature``): code -1 "signature error".
/// - `add` (`ym`, `td` required, `qian`, `bz` optional): code 1 "backorder success", data "3.00" (the frozen
///   deposit); already placed: code -2 "domain already backordered"; not pending delete: code -1 "domain is not
///   in the deletion list"; bad name: code -1 "sorry, domain format incorrect".
/// - `info` (`ym`): code 1 with `data{id,ym,zt,ztstr,sclx,sclxstr,td,qian,dqian,sj,scsj}` (all strings), or
///   code -1 "no backorder record". `zt` follows ``BackorderDestiny`` at the sandbox clock: 0 "in backorder"
///   before the drop, 3 "in auction", 1 "directly won" / 2 "auction won", 7 "dropcatch lost" or 4 "others won"
///   (by the name's hash) / 5 "auction lost", 6 "redeemed". *Chosen*: `qian` is the budget, or the catch or
///   auction price once there is one (CNY); `dqian` is the deposit while it is held (waiting, in auction, won) and
///   "0.00" once it is returned (lost, redeemed).
/// - No cancel: Gname's API documents none, so the fake has none (an unknown path answers 404).
/// - `bulk` (`ym` newline-separated, at most 100): code 1, `data{"ok":[names],"err":[{ym,code,msg}]}`.
/// - Faults: refuse = code -1 "frequency too high, please try again later"; account failure = "signature error"
///   or "ip address is not in the whitelist".
final class GnameFake: FakeProvider {
    let name = "gname"
    static let maxBulk = 100
    static let deposit = "3.00"
    static let maxClockSkew: TimeInterval = 300

    private struct Backorder: Codable {
        var id: String
        var ym: String
        var td: String
        var qian: String
        var sj: String
        var scsj: String
        /// When the create landed, by the sandbox clock: ``BackorderDestiny`` resolves the order from it.
        var placedAt: Date
    }

    private struct State: Codable {
        var accounts: [String: [String: Backorder]] = [:]
        var nextID = 3_313_994
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
            for orders in state.accounts.values {
                for (domain, order) in orders { out[domain] = min(out[domain] ?? order.placedAt, order.placedAt) }
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
        for operation in ["add", "info", "bulk"] {
            router.post("gname/api/backorder/\(operation)") { request, context in
                try await self.handle(operation, request, context)
            }
        }
    }

    private func envelope(_ code: Int, _ message: String, _ data: JSONValue = "") -> Answer {
        .json(.object([("code", .int(code)), ("msg", .string(message)), ("data", data)]), style: .php)
    }

    private func handle(_ operation: String, _ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        stats.request(name, operation)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let fields = FormFields(encoded: String(buffer: body))

        if let failure = injector.accountFailure(name) {
            return envelope(-1, failure == .credentials ? "signature error" : "ip address is not in the whitelist").response
        }
        guard let appid = fields["appid"],
              let suffix = SandboxCredentials.accountSuffix(appid, base: SandboxCredentials.gnameAppID)
        else {
            return envelope(-1, "appid does not exist").response
        }
        let now = Date()
        guard let gntime = fields["gntime"].flatMap({ Int64($0) }),
              abs(TimeInterval(gntime) - now.timeIntervalSince1970) <= Self.maxClockSkew
        else {
            let server = SandboxDates.chinaDateTime(now)
            return envelope(-1, "gntime error: request time differs from server time (\(server) UTC+8, \(Int64(now.timeIntervalSince1970))) by more than 300 seconds").response
        }
        let expected = GnameSignature.token(fields: fields.pairs, appKey: SandboxCredentials.gnameAppKey + suffix)
        guard fields["gntoken"] == expected else {
            return envelope(-1, "signature error").response
        }
        if injector.overRateLimit(name, account: appid) {
            return refuseAnswer(variant: 0, command: operation).response
        }

        let ym = fields["ym"] ?? ""
        switch operation {
        case "add":
            let domain = PendingDeleteRule.normalize(ym)
            return try await pipeline.run(self, kind: .create, command: operation, account: appid,
                                          contentKey: domain, context: context) {
                add(account: appid, domain: domain, fields: fields, now: clock.now())
            }.response
        case "bulk":
            let domains = ym.split(whereSeparator: \.isNewline).map { PendingDeleteRule.normalize(String($0)) }.filter { !$0.isEmpty }
            return try await pipeline.run(self, kind: .create, command: operation, account: appid,
                                          contentKey: domains.joined(separator: "\n"), context: context) {
                bulk(account: appid, domains: domains, fields: fields, now: clock.now())
            }.response
        default:
            let domain = PendingDeleteRule.normalize(ym)
            return try await pipeline.run(self, kind: .lookup, command: operation, account: appid,
                                          contentKey: domain, context: context) {
                info(account: appid, domain: domain, now: clock.now())
            }.response
        }
    }

    /// The outcome of one name: nil when placed, else (code, message).
    private func place(account: String, domain: String, fields: FormFields, now: Date) -> (Int, String)? {
        switch PendingDeleteRule.verdict(for: domain) {
        case .invalidName: return (-1, "sorry, domain format incorrect")
        case .registered, .unsupportedTLD: return (-1, "domain is not in the deletion list")
        case .pendingDelete: break
        }
        guard let td = fields["td"], !td.isEmpty, td.allSatisfy(\.isNumber) else {
            return (-1, "backorder channel (td) is required")
        }
        var qian = Self.deposit
        if let price = fields["qian"], !price.isEmpty {
            guard let value = Double(price), value >= 0 else { return (-1, "backorder amount (qian) format incorrect") }
            qian = String(format: "%.2f", value)
        }
        return state.withLock { state -> (Int, String)? in
            if state.accounts[account]?[domain] != nil { return (-2, "domain already backordered") }
            state.nextID += 1
            state.accounts[account, default: [:]][domain] = Backorder(
                id: String(state.nextID), ym: domain, td: td, qian: qian,
                sj: SandboxDates.chinaDateTime(now),
                scsj: SandboxDates.chinaDate(BackorderDestiny.dropTime(of: domain, placedAt: now)),
                placedAt: now
            )
            stats.create(name, domain)
            return nil
        }
    }

    private func add(account: String, domain: String, fields: FormFields, now: Date) -> Answer {
        if let (code, message) = place(account: account, domain: domain, fields: fields, now: now) {
            return envelope(code, message)
        }
        return envelope(1, "backorder success", .string(Self.deposit))
    }

    private func bulk(account: String, domains: [String], fields: FormFields, now: Date) -> Answer {
        if domains.isEmpty { return envelope(-1, "sorry, domain format incorrect") }
        if domains.count > Self.maxBulk { return envelope(-1, "at most \(Self.maxBulk) domains per request") }
        var ok: [JSONValue] = []
        var errors: [JSONValue] = []
        for domain in domains {
            if let (code, message) = place(account: account, domain: domain, fields: fields, now: now) {
                errors.append(.object([("ym", .string(domain)), ("code", .int(code)), ("msg", .string(message))]))
            } else {
                ok.append(.string(domain))
            }
        }
        return envelope(1, "ok", .object([("ok", .array(ok)), ("err", .array(errors))]))
    }

    private func info(account: String, domain: String, now: Date) -> Answer {
        guard PendingDeleteRule.isValidHostName(domain) else { return envelope(-1, "sorry, domain format incorrect") }
        guard let item = state.withLock({ $0.accounts[account]?[domain] }) else {
            return envelope(-1, "no backorder record")
        }
        let phase = BackorderDestiny.phase(of: domain, provider: name, placedAt: item.placedAt, now: now)
        let (zt, ztstr) = Self.status(phase, domain: domain, provider: name)
        let qian = phase.price.map { "\($0).00" } ?? item.qian
        let depositHeld = [.waiting, .inAuction, .won].contains(phase.stage)
        return envelope(1, "ok", .object([
            ("id", .string(item.id)), ("ym", .string(item.ym)), ("zt", .string(String(zt))), ("ztstr", .string(ztstr)),
            ("sclx", "1"), ("sclxstr", "Delete"), ("td", .string(item.td)), ("qian", .string(qian)),
            ("dqian", .string(depositHeld ? Self.deposit : "0.00")), ("sj", .string(item.sj)), ("scsj", .string(item.scsj)),
        ]))
    }

    /// Gname's `zt` and `ztstr` (seed 000's wording) for where an order stands.
    static func status(_ phase: BackorderDestiny.Phase, domain: String, provider: String) -> (Int, String) {
        switch phase.stage {
        case .waiting: return (0, "in backorder")
        case .inAuction: return (3, "in auction")
        case .won: return phase.wasAuction ? (2, "auction won") : (1, "directly won")
        case .redeemed: return (6, "redeemed")
        case .lost:
            if phase.wasAuction { return (5, "auction lost") }
            // A lost catch is either someone else's catch or a failed one: the name decides which Gname says.
            return StableRandom.value(seed: 0, ["gname-lost", domain]) % 2 == 0 ? (4, "others won") : (7, "dropcatch lost")
        }
    }

    func refuseAnswer(variant: UInt64, command: String) -> Answer {
        envelope(-1, "frequency too high, please try again later")
    }
}
