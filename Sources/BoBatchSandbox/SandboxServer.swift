import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore

public struct SandboxOptions: Sendable {
    /// Address to bind. Keep the loopback address: the fakes accept well-known credentials.
    public var host = "127.0.0.1"
    /// 0 picks a free port (see ``SandboxServer/port``).
    public var port = 0
    public var faults: FaultPlan = .none
    /// Every random choice of the fault layer derives from it.
    public var seed: UInt64 = 1
    /// Level of the HTTP server's own log. `.critical` by default: stopping the server cancels it, which the
    /// server library logs as an error that means nothing here.
    public var logLevel: Logger.Level = .critical
    /// Serve HTTPS with a throwaway self-signed certificate (``SandboxServer/caFilePath`` is what to trust).
    public var tls = false
    /// Round trip to simulate on every connection, TLS handshake included (see `LatencyHandler`); 0: none.
    /// Unlike a fault plan's latency, which delays each request's answer, this is the network's share: it makes
    /// a new connection cost its handshakes' round trips, as against a real API.
    public var roundTripMilliseconds = 0
    /// Where the sandbox keeps its world (orders and clock) between processes, or nil to forget it at exit:
    /// see ``SandboxWorld`` and ``SandboxSession``.
    public var stateFile: String?

    public init(host: String = "127.0.0.1", port: Int = 0, faults: FaultPlan = .none, seed: UInt64 = 1,
                logLevel: Logger.Level = .critical, tls: Bool = false, roundTripMilliseconds: Int = 0,
                stateFile: String? = nil) {
        self.stateFile = stateFile
        self.host = host
        self.port = port
        self.faults = faults
        self.seed = seed
        self.logLevel = logLevel
        self.tls = tls
        self.roundTripMilliseconds = roundTripMilliseconds
    }
}

public struct SandboxError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Fake provider APIs on a loopback port, with fault injection.
///
/// Paths: Dynadot `/dynadot/api3.xml`, Gname `/gname/api/backorder/{add,info,bulk}`, Yay `/yay/dom/back-order`,
/// 1API `/1api/api/call.cgi`, DNSPod `/dnspod/Domain.{Acquiresend,Acquire,Acquirevalidate}`; control:
/// `GET /_sandbox/stats` (``SandboxStats`` as JSON), `POST /_sandbox/reset` (forget every list and count),
/// `GET`/`PUT /_sandbox/faults` (the ``FaultPlan`` as JSON), `GET /_sandbox/connections`
/// (``SandboxConnectionStats``), `GET`/`PUT /_sandbox/clock` and `GET /_sandbox/truth?provider=P`
/// (``SandboxClockRoutes``). State lives in memory, per account, and in ``SandboxOptions/stateFile`` when set.
public final class SandboxServer: Sendable {
    public let port: Int
    public let host: String
    private let runTask: Task<Void, Never>
    private let components: Components

    public var baseURL: String {
        "\(components.tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// With ``SandboxOptions/tls``: the PEM file holding the sandbox's certificate, for clients to trust
    /// (`BO_BATCH_CA_FILE`, `curl --cacert`). Removed at ``shutdown()``.
    public var caFilePath: String? { components.tls?.caFilePath }

    private struct Components: Sendable {
        let stats: StatsRecorder
        let injector: FaultInjector
        let gates: HoldGates
        let dynadot: DynadotFake
        let gname: GnameFake
        let yay: YayFake
        let oneapi: OneAPIFake
        let dnspod: DNSPodFake
        let tls: SandboxTLS?
        let connections: ConnectionCounter
        let roundTripMilliseconds: Int
        let clock: SandboxClock
        /// The saved world (``SandboxOptions/stateFile``), nil when the sandbox forgets at exit.
        var world: SandboxWorld? = nil

        var fakes: [any FakeProvider] { [dynadot, gname, yay, oneapi, dnspod] }

        func reset() {
            for fake in fakes { fake.reset() }
            injector.reset()
            stats.reset()
            clock.reset()
            connections.reset()
            tls?.signingKey.resetCount()
        }

        func connectionStats() -> SandboxConnectionStats {
            SandboxConnectionStats(
                accepted: connections.value, tlsFullHandshakes: tls?.signingKey.signatureCount ?? 0, tls: tls != nil,
                roundTripMilliseconds: roundTripMilliseconds)
        }
    }

    private init(port: Int, host: String, runTask: Task<Void, Never>, components: Components) {
        self.port = port
        self.host = host
        self.runTask = runTask
        self.components = components
    }

    /// Starts the server; returns once it is listening.
    public static func start(_ options: SandboxOptions = SandboxOptions()) async throws -> SandboxServer {
        try options.faults.validate()
        let stats = StatsRecorder()
        let injector = FaultInjector(seed: options.seed, plan: options.faults, stats: stats)
        let gates = HoldGates()
        let clock = SandboxClock()
        let pipeline = FaultPipeline(injector: injector, gates: gates, stats: stats, clock: clock)
        guard options.roundTripMilliseconds >= 0 else {
            throw SandboxError(message: "round trip must be 0 or more milliseconds, not \(options.roundTripMilliseconds)")
        }
        let tls: SandboxTLS?
        do {
            tls = options.tls ? try SandboxTLS(host: options.host) : nil
        } catch {
            throw SandboxError(message: "sandbox could not make its TLS certificate: \(error)")
        }
        var built = Components(
            stats: stats, injector: injector, gates: gates,
            dynadot: DynadotFake(pipeline: pipeline),
            gname: GnameFake(pipeline: pipeline),
            yay: YayFake(pipeline: pipeline),
            oneapi: OneAPIFake(pipeline: pipeline),
            dnspod: DNSPodFake(pipeline: pipeline),
            tls: tls, connections: ConnectionCounter(), roundTripMilliseconds: options.roundTripMilliseconds,
            clock: clock
        )

        if let stateFile = options.stateFile {
            let world: SandboxWorld
            do {
                world = try SandboxWorld(path: stateFile, fakes: built.fakes, clock: clock)
            } catch {
                tls?.removeFiles()
                throw error
            }
            built.world = world
            // Every move of the clock is kept at once: it is what a later `refresh --sandbox` must see.
            clock.onAdvance { _ in try? world.save() }
        }
        let components = built

        let router = Router(context: SandboxRequestContext.self)
        for fake in components.fakes { fake.register(on: router) }
        registerControlRoutes(on: router, components: components)

        var logger = Logger(label: "bo-batch.sandbox")
        logger.logLevel = options.logLevel
        let (listening, listeningContinuation) = AsyncThrowingStream<Int, any Error>.makeStream()
        let roundTrip = TimeAmount.milliseconds(Int64(options.roundTripMilliseconds))
        let server = HTTPServerBuilder { responder in
            let http = HTTP1Channel(responder: responder)
            if let tls {
                return SandboxChildChannel(
                    base: try TLSChannel(http, tlsConfiguration: tls.configuration), counter: components.connections,
                    roundTrip: roundTrip)
            }
            return SandboxChildChannel(base: http, counter: components.connections, roundTrip: roundTrip)
        }
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in
                components.connections.listening(on: channel)
                listeningContinuation.yield(channel.localAddress?.port ?? options.port)
            },
            logger: logger
        )
        let runTask = Task {
            do {
                try await app.run()
                listeningContinuation.finish()
            } catch {
                listeningContinuation.finish(throwing: error)
            }
        }
        do {
            for try await port in listening {
                return SandboxServer(port: port, host: options.host, runTask: runTask, components: components)
            }
        } catch {
            tls?.removeFiles()
            components.world?.release()
            throw SandboxError(message: "sandbox could not listen on \(options.host):\(options.port): \(error)")
        }
        tls?.removeFiles()
        components.world?.release()
        throw SandboxError(message: "sandbox stopped before listening on \(options.host):\(options.port)")
    }

    /// Where a client of `provider` should send its requests (the sandbox equivalent of the provider's base URL):
    /// `dynadot` → `…/dynadot/api3.xml`, `gname` → `…/gname`, `yay` → `…/yay`, `oneapi` (or `1api`) →
    /// `…/1api/api/call.cgi`, `dnspod` → `…/dnspod`.
    public func endpoint(for provider: String) -> String {
        switch provider.lowercased() {
        case "dynadot": baseURL + "/dynadot/api3.xml"
        case "gname": baseURL + "/gname"
        case "yay", "yay.com": baseURL + "/yay"
        case "oneapi", "1api", "hexonet": baseURL + "/1api/api/call.cgi"
        case "dnspod": baseURL + "/dnspod"
        default: baseURL + "/" + provider
        }
    }

    public func stats() -> SandboxStats {
        var stats = components.stats.snapshot()
        stats.held = components.gates.heldCounts()
        return stats
    }

    /// The sandbox's time (real time plus an offset that only moves forward): every fake reads it.
    public var clock: SandboxClock { components.clock }

    /// The fake named `provider` (tests reach its ``FakeProvider/snapshot()`` and ``FakeProvider/restore(_:)``).
    func fake(named provider: String) -> (any FakeProvider)? { components.fakes.first { $0.name == provider } }

    /// The ground truth of `provider`'s placed orders now: domain → where it stands (``BackorderDestiny``).
    /// Cancelled orders are not in it. For tests that check what `refresh` found.
    public func truth(provider: String) -> [String: BackorderDestiny.Phase] {
        guard let fake = components.fakes.first(where: { $0.name == provider }) else { return [:] }
        let now = components.clock.now()
        var out: [String: BackorderDestiny.Phase] = [:]
        for (domain, placedAt) in fake.placedOrders() {
            out[domain] = BackorderDestiny.phase(of: domain, provider: provider, placedAt: placedAt, now: now)
        }
        return out
    }

    /// The file the sandbox keeps its world in (``SandboxOptions/stateFile``), nil when it keeps none.
    public var stateFile: String? { components.world?.path }

    /// Writes the world (every fake's orders and the clock) to ``stateFile`` now; nothing without one.
    /// ``shutdown()`` does it too, but a command that exits without awaiting the shutdown must call this, with
    /// `closing: true` when the command is ending: nothing is written after that save (so no write is cut by the
    /// process's exit).
    public func saveState(closing: Bool = false) throws {
        try components.world?.save(closing: closing)
    }

    /// Forgets every list, count and fault draw (like `POST /_sandbox/reset`). Hold gates stay as they are.
    public func reset() {
        components.reset()
    }

    public var faults: FaultPlan { components.injector.currentPlan }

    /// Connections accepted and full TLS handshakes since start (or the last reset).
    public func connectionStats() -> SandboxConnectionStats {
        components.connectionStats()
    }

    /// Replaces the fault plan for the requests that arrive from now on.
    public func setFaults(_ plan: FaultPlan) throws {
        try plan.validate()
        components.injector.replacePlan(plan)
    }

    /// Holds every create request of `provider` inside the server (before processing; its latency runs meanwhile) until
    /// ``releaseCreates(for:)``: a request as slow as a test needs, without sleeping.
    public func holdCreates(for provider: String) {
        components.gates.hold(provider)
    }

    public func releaseCreates(for provider: String) {
        components.gates.release(provider)
    }

    /// Returns once at least `count` create requests of `provider` are held.
    public func waitForHeldCreates(provider: String, count: Int = 1) async {
        await components.gates.waitUntilHeld(provider, count: count)
    }

    /// The verification codes the DNSPod fake mailed for `domain` so far (the last one is valid).
    public func dnspodVerificationCodes(for domain: String) -> [String] {
        components.dnspod.verificationCodes(for: domain)
    }

    /// Stops listening, cancels requests still running (hangs and latencies end at once) and returns when done.
    ///
    /// It stops accepting first and lets every connection already accepted reach its handler, and only then
    /// cancels: cancelling the server while an accepted connection still waits in its queue drops that connection
    /// unserved, and swift-nio traps on it ("Deinited NIOAsyncWriter without calling finish()": apple/swift-nio
    /// #3481, #2637), which killed a whole test process once. The wait is bounded (a connection closed before it
    /// was handed over never reaches a handler).
    public func shutdown() async {
        components.gates.releaseAll()
        if let listener = components.connections.listeningChannel {
            try? await listener.close().get()
            let deadline = ContinuousClock.now + .seconds(2)
            while !components.connections.allReachedHandler, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        runTask.cancel()
        await runTask.value
        components.tls?.removeFiles()
        try? components.world?.save()
        components.world?.release()
    }

    // MARK: Control routes

    private static func registerControlRoutes(on router: Router<SandboxRequestContext>, components: Components) {
        router.get("_sandbox/stats") { _, _ -> Response in
            var stats = components.stats.snapshot()
            stats.held = components.gates.heldCounts()
            return try jsonResponse(stats)
        }
        router.post("_sandbox/reset") { _, _ -> Response in
            components.reset()
            return Answer.json(.object([("reset", .bool(true))])).response
        }
        SandboxClockRoutes.register(on: router, clock: components.clock, fakes: components.fakes)
        router.get("_sandbox/connections") { _, _ -> Response in
            try jsonResponse(components.connectionStats())
        }
        router.get("_sandbox/faults") { _, _ -> Response in
            try jsonResponse(components.injector.currentPlan)
        }
        router.put("_sandbox/faults") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            do {
                let plan = try FaultPlan(json: Data(body.readableBytesView))
                components.injector.replacePlan(plan)
                return try jsonResponse(plan)
            } catch {
                return Answer.json(.object([("error", .string("\(error)"))]), status: .badRequest).response
            }
        }
    }

    private static func jsonResponse(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
