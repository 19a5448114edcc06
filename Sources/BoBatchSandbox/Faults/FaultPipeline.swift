import Foundation
import Hummingbird
import NIOCore

/// One fake API: its routes, its memory, and the provider-specific answers the fault layer needs. The server
/// treats all five alike through this protocol.
protocol FakeProvider: AnyObject, Sendable {
    /// Name in stats and fault plans (`dynadot`, `gname`, `yay`, `oneapi`, `dnspod`).
    var name: String { get }
    /// Latency, hold gates and faults, shared by every fake of a server.
    var pipeline: FaultPipeline { get }
    /// Adds the fake's routes.
    func register(on router: Router<SandboxRequestContext>)
    /// Forgets every account's lists.
    func reset()
    /// The provider's "slow down, nothing was done" answer to `command`.
    func refuseAnswer(variant: UInt64, command: String) -> Answer
    /// A hostile answer to a processed request. The default pads a copy of the normal answer to `bytes`.
    func hostileResponse(variant: UInt64, bytes: Int, normal: Answer) -> Response
    /// The orders the fake holds now (not cancelled), every account together: domain → when it was placed, by
    /// the sandbox clock. ``SandboxServer/truth(provider:)`` resolves them with ``BackorderDestiny``.
    func placedOrders() -> [String: Date]
    /// The fake's memory (every account's orders, with placement times and references) as JSON, so that an
    /// in-process sandbox (`--sandbox`) can hand it to the next invocation (``restore(_:)``); nil: nothing to keep.
    func snapshot() -> Data?
    /// Takes back what ``snapshot()`` gave, replacing the fake's memory.
    func restore(_ data: Data) throws
}

extension FakeProvider {
    func placedOrders() -> [String: Date] { [:] }
    func snapshot() -> Data? { nil }
    func restore(_ data: Data) throws {}
    var clock: SandboxClock { pipeline.clock }
    var stats: StatsRecorder { pipeline.stats }
    var injector: FaultInjector { pipeline.injector }

    func hostileResponse(variant: UInt64, bytes: Int, normal: Answer) -> Response {
        Self.paddedResponse(bytes: bytes, normal: normal)
    }

    /// The normal answer with a huge, syntactically valid filler in front of its content: a client without a
    /// size cap would parse it fine after reading `bytes` bytes.
    static func paddedResponse(bytes: Int, normal: Answer) -> Response {
        let body = normal.body
        if body.hasPrefix("{") {
            let rest = body.dropFirst()
            let separator = rest.hasPrefix("}") ? "" : ","
            return HugeBody.response(status: normal.status, contentType: normal.contentType, prefix: "{\"padding\":\"",
                                     padding: bytes, suffix: "\"" + separator + rest)
        }
        if let header = body.range(of: "[RESPONSE]") {
            let newline = body.contains("\r\n") ? "\r\n" : "\n"
            let head = body[..<header.upperBound] + newline + "property[padding][0] = "
            var rest = body[header.upperBound...]
            while rest.first == "\r" || rest.first == "\n" { rest = rest.dropFirst() }
            return HugeBody.response(status: normal.status, contentType: normal.contentType, prefix: String(head),
                                     padding: bytes, suffix: newline + rest)
        }
        // XML: a comment, after the declaration if there is one.
        var declaration = ""
        var document = Substring(body)
        if body.hasPrefix("<?xml"), let end = body.range(of: "?>") {
            declaration = String(body[..<end.upperBound])
            document = body[end.upperBound...]
        }
        return HugeBody.response(status: normal.status, contentType: normal.contentType, prefix: declaration + "<!--",
                                 padding: bytes, suffix: "-->" + document)
    }
}

/// What happened to one request in the fault layer.
struct PipelineOutcome {
    var response: Response
    /// The fault injected, if any.
    var fault: FaultKind?
    /// When the answer leaves, if the connection holds it until then (``ConnectionAnswerClock``); nil when it
    /// leaves as soon as it is returned. A fake that keeps an account busy while a request is processed frees it
    /// then (``FaultPipeline/whenAnswered(_:context:_:)``), as a client sees it.
    var answerAt: NIODeadline? = nil
}

/// Runs one request of a fake through latency, the hold gate and the chosen fault.
struct FaultPipeline: Sendable {
    let injector: FaultInjector
    let gates: HoldGates
    let stats: StatsRecorder
    /// The sandbox's time, which every fake reads (never `Date()`): moving it resolves placed orders
    /// (``BackorderDestiny``).
    var clock = SandboxClock()

    func run(
        _ provider: some FakeProvider,
        kind: RequestKind,
        command: String,
        account: String,
        contentKey: String,
        context: SandboxRequestContext,
        process: () async throws -> Answer
    ) async throws -> PipelineOutcome {
        // From the moment its bytes reached the connection (``ConnectionAnswerClock``), not from when this task
        // got them: the hand-off in between (a fraction of a millisecond) is the sandbox's own cost, not the
        // client's. But when this task started long after the bytes came (a starved machine: the whole test suite
        // on two cores has held routes back for seconds), the latency counts from now, as it did before: a fault
        // plan's latency is time the request spends being processed, and a starved sandbox must not shorten it.
        let routeStart = NIODeadline.now()
        let arrived = context.answerClock?.takeArrival().flatMap { routeStart - $0 < Self.handOffAllowance ? $0 : nil } ?? routeStart
        let decision = injector.decide(provider.name, kind: kind, account: account, contentKey: contentKey)
        stats.begin(provider.name, arrived: arrived)
        // Set when the answer is handed to the connection to leave at its time: it is busy until then.
        var heldUntil: NIODeadline?
        defer {
            if let heldUntil {
                let stats = stats, name = provider.name
                context.channel.eventLoop.scheduleTask(deadline: heldUntil) { stats.end(name, arrived: arrived) }
            } else {
                stats.end(provider.name, arrived: arrived)
            }
        }
        // The latency is the request's time in the server, counted from its arrival, the fake's own work inside
        // it: the answer leaves `latencyMs` after the request came in, however long the fake took on a loaded
        // machine. It used to be a sleep before the work, which made "50 ms" answer in 51-53 ms (the work, and
        // waking up after the sleep, came on top), so no client could reach the ceiling a benchmark computes
        // from the configured latency. A client that gives up during the latency still finds the request
        // processed, as with a real API that answers slowly.
        let answerAt = arrived + .milliseconds(Int64(decision.latencyMs))
        func waitForAnswerTime() async throws {
            guard decision.latencyMs > 0 else { return }
            try await context.channel.eventLoop.scheduleTask(deadline: answerAt) {}.futureResult.get()
        }

        if kind == .create {
            await gates.pass(provider.name)
        }

        switch decision.fault {
        case .refuse:
            try await waitForAnswerTime()
            if decision.variant % 4 == 3 {
                return PipelineOutcome(response: Self.serviceUnavailable.response, fault: .refuse)
            }
            return PipelineOutcome(response: provider.refuseAnswer(variant: decision.variant >> 2, command: command).response, fault: .refuse)
        case .tooManyRequests:
            try await waitForAnswerTime()
            return PipelineOutcome(response: Self.tooManyRequests(retryAfter: decision.retryAfterSeconds).response, fault: .tooManyRequests)
        case .serviceUnavailable:
            try await waitForAnswerTime()
            return PipelineOutcome(response: Self.serviceUnavailable(retryAfter: decision.retryAfterSeconds).response, fault: .serviceUnavailable)
        case .dropBeforeProcessing:
            try await waitForAnswerTime()
            return PipelineOutcome(response: await drop(context), fault: .dropBeforeProcessing)
        default:
            break
        }

        let answer = try await process()
        if decision.fault == nil, decision.latencyMs > 0, let clock = context.answerClock {
            // The usual case: the connection writes the answer from its event loop's timer at its time, instead of
            // this task waking at that time and handing the answer back (see ``ConnectionAnswerClock``).
            clock.hold(until: answerAt)
            heldUntil = answerAt
        } else {
            try await waitForAnswerTime()
        }

        switch decision.fault {
        case .dropAfterProcessing:
            return PipelineOutcome(response: await drop(context), fault: .dropAfterProcessing)
        case .hangAfterProcessing:
            try await Task.sleep(for: .milliseconds(Int(decision.hangSeconds * 1000)))
            return PipelineOutcome(response: answer.response, fault: .hangAfterProcessing)
        case .serverErrorAfterProcessing:
            let error = decision.variant % 2 == 0 ? Self.internalServerError : Self.badGateway
            return PipelineOutcome(response: error.response, fault: .serverErrorAfterProcessing)
        case .malformedAfterProcessing:
            return PipelineOutcome(response: answer.truncated.response, fault: .malformedAfterProcessing)
        case .hostileBody:
            let response = provider.hostileResponse(variant: decision.variant, bytes: decision.hostileBodyBytes, normal: answer)
            return PipelineOutcome(response: response, fault: .hostileBody)
        default:
            return PipelineOutcome(response: answer.response, fault: nil, answerAt: heldUntil)
        }
    }

    /// Runs `body` once the answer of `outcome` has left (at once if it was not held), as a task, like the routes:
    /// a request that came in before that time has its route queued ahead of it even on a starved machine, so it
    /// still finds the account busy (as when the route itself waited).
    func whenAnswered(_ outcome: PipelineOutcome?, context: SandboxRequestContext, _ body: @escaping @Sendable () -> Void) {
        guard let at = outcome?.answerAt, at > .now() else { return body() }
        let timer = context.channel.eventLoop.scheduleTask(deadline: at) {}
        Task {
            _ = try? await timer.futureResult.get()
            body()
        }
    }

    /// How long after its bytes arrived a route may start for its latency still to count from their arrival.
    static let handOffAllowance = TimeAmount.milliseconds(10)

    /// Closes the connection; the response returned is never written (the channel is gone).
    private func drop(_ context: SandboxRequestContext) async -> Response {
        try? await context.channel.close()
        return Response(status: .ok)
    }

    static let serviceUnavailable = serviceUnavailable(retryAfter: 1)

    static func serviceUnavailable(retryAfter: Int) -> Answer {
        Answer(
            status: .serviceUnavailable, contentType: "text/html",
            body: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
            headers: [.retryAfter: "\(retryAfter)"])
    }

    static func tooManyRequests(retryAfter: Int) -> Answer {
        Answer(
            status: .tooManyRequests, contentType: "text/html",
            body: "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
            headers: [.retryAfter: "\(retryAfter)"])
    }

    static let internalServerError = Answer.html(
        status: .internalServerError,
        "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>500 Internal Server Error</title>\n</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n</body></html>\n"
    )

    static let badGateway = Answer.html(
        status: .badGateway,
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    )
}
