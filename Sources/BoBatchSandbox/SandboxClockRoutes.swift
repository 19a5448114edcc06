import Foundation
import Hummingbird
import NIOCore

/// The control paths of the sandbox's clock and of its ground truth, for scenario scripts against a standalone
/// `bo-batch sandbox` (tests in-process use ``SandboxServer/clock`` and ``SandboxServer/truth(provider:)``):
///
/// - `GET /_sandbox/clock` → `{"now": "2026-12-02T10:00:00Z", "offset_seconds": 172800}`.
/// - `PUT /_sandbox/clock` with `{"advance_to_seconds": 172800}` or `{"offset": "+2d"}` (``SandboxTimeOffset``):
///   the sandbox runs that far ahead of real time from now on. Forward only: a smaller offset leaves the clock
///   where it is (`"moved": false` in the answer says so). A body that is neither → 400 with `{"error": ...}`.
/// - `GET /_sandbox/truth?provider=yay` → `{"provider": "yay", "now": ..., "orders": {"example.com": {"stage":
///   "won", "drop_time": ..., "auction_ends": null, "price": 87, "was_auction": false}, ...}}`: where every order
///   the fake holds stands now (``BackorderDestiny``); cancelled orders are not in it.
enum SandboxClockRoutes {
    struct ClockAnswer: Encodable {
        var now: String
        var offset_seconds: Double
        var moved: Bool?
    }

    struct TruthOrder: Encodable {
        var stage: String
        var drop_time: String
        var auction_ends: String?
        var price: Int?
        var was_auction: Bool

        func encode(to encoder: any Encoder) throws {
            // Nulls written out, so a script sees every field of every order.
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(stage, forKey: .stage)
            try c.encode(drop_time, forKey: .drop_time)
            try c.encode(auction_ends, forKey: .auction_ends)
            try c.encode(price, forKey: .price)
            try c.encode(was_auction, forKey: .was_auction)
        }

        enum CodingKeys: String, CodingKey { case stage, drop_time, auction_ends, price, was_auction }
    }

    struct TruthAnswer: Encodable {
        var provider: String
        var now: String
        var orders: [String: TruthOrder]
    }

    static func register(on router: Router<SandboxRequestContext>, clock: SandboxClock, fakes: [any FakeProvider]) {
        router.get("_sandbox/clock") { _, _ -> Response in
            try json(ClockAnswer(now: iso(clock.now()), offset_seconds: clock.offset, moved: nil))
        }
        router.put("_sandbox/clock") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 << 10)
            let target: TimeInterval
            switch readTarget(Data(body.readableBytesView)) {
            case .success(let seconds): target = seconds
            case .failure(let error): return problem(error.message)
            }
            let before = clock.offset
            clock.advance(to: target)
            return try json(ClockAnswer(now: iso(clock.now()), offset_seconds: clock.offset, moved: clock.offset > before))
        }
        router.get("_sandbox/truth") { request, _ -> Response in
            let names = fakes.map(\.name)
            guard let provider = request.uri.queryParameters["provider"].map(String.init), !provider.isEmpty else {
                return problem("name the provider: /_sandbox/truth?provider=NAME, one of \(names.joined(separator: ", "))")
            }
            guard let fake = fakes.first(where: { $0.name == provider.lowercased() }) else {
                return problem("no provider '\(provider)' in the sandbox; one of \(names.joined(separator: ", "))")
            }
            let now = clock.now()
            var orders: [String: TruthOrder] = [:]
            for (domain, placedAt) in fake.placedOrders() {
                let phase = BackorderDestiny.phase(of: domain, provider: fake.name, placedAt: placedAt, now: now)
                orders[domain] = TruthOrder(
                    stage: phase.stage.rawValue, drop_time: iso(phase.dropTime), auction_ends: phase.auctionEnds.map(iso),
                    price: phase.price, was_auction: phase.wasAuction)
            }
            return try json(TruthAnswer(provider: fake.name, now: iso(now), orders: orders))
        }
    }

    struct BodyError: Error { var message: String }

    /// The offset a `PUT /_sandbox/clock` body asks for, in seconds.
    static func readTarget(_ body: Data) -> Result<TimeInterval, BodyError> {
        let usage = #"send {"advance_to_seconds": N} or {"offset": "+2d"}"#
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .failure(BodyError(message: "the body is not a JSON object; " + usage))
        }
        let unknown = Set(object.keys).subtracting(["advance_to_seconds", "offset"])
        guard unknown.isEmpty else {
            return .failure(BodyError(message: "unknown field \(unknown.sorted().joined(separator: ", ")); " + usage))
        }
        switch (object["advance_to_seconds"], object["offset"]) {
        case (let seconds?, nil):
            guard let number = seconds as? NSNumber, number.doubleValue.isFinite else {
                return .failure(BodyError(message: "advance_to_seconds must be a number of seconds"))
            }
            let value = number.doubleValue
            guard value >= 0 else { return .failure(BodyError(message: "the sandbox clock only moves forward: advance_to_seconds must be 0 or more")) }
            guard value <= SandboxTimeOffset.maximumSeconds else {
                return .failure(BodyError(message: "more than 3650 days ahead is not a useful sandbox time"))
            }
            return .success(value)
        case (nil, let text?):
            guard let text = text as? String else { return .failure(BodyError(message: #"offset must be a string such as "+2d""#)) }
            do {
                return .success(try SandboxTimeOffset.parse(text).seconds)
            } catch {
                return .failure(BodyError(message: error.message))
            }
        default:
            return .failure(BodyError(message: usage))
        }
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    private static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func problem(_ message: String) -> Response {
        Answer.json(.object([("error", .string(message))]), status: .badRequest).response
    }
}
