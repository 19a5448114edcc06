import Foundation
import HummingbirdCore
import Logging
import NIOCore

/// What the sandbox saw of connections (not requests): how many were accepted and how many TLS handshakes
/// were full ones, so a benchmark can tell what new connections cost. `GET /_sandbox/connections`.
public struct SandboxConnectionStats: Codable, Sendable, Equatable {
    /// TCP connections accepted.
    public var accepted: Int
    /// Full TLS handshakes (the server signed): accepted minus resumed ones, minus connections that never
    /// finished a handshake. Always 0 without TLS.
    public var tlsFullHandshakes: Int
    public var tls: Bool
    /// The round trip the sandbox adds to every connection (see ``SandboxOptions/roundTripMilliseconds``).
    public var roundTripMilliseconds: Int
}

/// Counts accepted connections; shared by every child channel of one sandbox. Also tracks, for the server's
/// life (``reset()`` leaves them), how many accepted connections have reached their handler, and the listening
/// channel: ``SandboxServer/shutdown()`` stops accepting and waits for those two to meet before it cancels.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var setups = 0
    private var handled = 0
    private var listener: (any Channel)?
    func accepted() { lock.withLock { count += 1; setups += 1 } }
    func reachedHandler() { lock.withLock { handled += 1 } }
    var value: Int { lock.withLock { count } }
    func reset() { lock.withLock { count = 0 } }
    /// Every connection accepted so far is being served (or was).
    var allReachedHandler: Bool { lock.withLock { handled >= setups } }
    func listening(on channel: any Channel) { lock.withLock { listener = channel } }
    var listeningChannel: (any Channel)? { lock.withLock { listener } }
}

/// Wraps the server's child channel (HTTP/1, or TLS around it): counts each connection, and puts a
/// ``LatencyHandler`` nearest the socket when a round trip is configured, so TLS handshake bytes wait too.
struct SandboxChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let counter: ConnectionCounter
    let roundTrip: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        counter.accepted()
        return channel.eventLoop.makeCompletedFuture {
            if roundTrip > .zero {
                try channel.pipeline.syncOperations.addHandler(LatencyHandler(roundTrip: roundTrip), position: .first)
            }
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            try AnswerClockHandler.add(to: channel)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        counter.reachedHandler()
        await base.handle(value: value, logger: logger)
    }
}

/// Makes a loopback connection behave like one across a network with round trip `roundTrip`.
///
/// Every chunk in either direction is held for half a round trip, in order; and the client's first byte is
/// held one round trip more, for the TCP handshake its `connect` would have waited for (on loopback the kernel
/// completes it at once). So a fresh HTTPS connection costs what it costs on a real network — TCP, then the
/// TLS 1.3 handshake, then the request: three round trips before the answer, against one on a kept-alive
/// connection — while the server's own time adds on top. Kernel-level delay (`tc qdisc ... netem`) would be
/// more faithful still, but needs root and the netem module, which this machine's kernel lacks.
final class LatencyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let roundTrip: TimeAmount
    private let oneWay: TimeAmount
    /// Deadlines strictly grow, so the event loop's scheduled tasks run in arrival order (no tie to break).
    private var lastInbound = NIODeadline.uptimeNanoseconds(0)
    private var lastOutbound = NIODeadline.uptimeNanoseconds(0)

    init(roundTrip: TimeAmount) {
        self.roundTrip = roundTrip
        oneWay = .nanoseconds(roundTrip.nanoseconds / 2)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // The client's first byte could only have left after the TCP handshake's round trip, and then travels.
        lastInbound = .now() + roundTrip + oneWay
    }

    private func inbound(context: ChannelHandlerContext, _ deliver: @escaping (ChannelHandlerContext) -> Void) {
        let at = max(.now() + oneWay, lastInbound + .nanoseconds(1))
        lastInbound = at
        let bound = NIOLoopBound((context, deliver), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: at) {
            let (context, deliver) = bound.value
            deliver(context)
        }
    }

    private func outbound(context: ChannelHandlerContext, _ send: @escaping (ChannelHandlerContext) -> Void) {
        let at = max(.now() + oneWay, lastOutbound + .nanoseconds(1))
        lastOutbound = at
        let bound = NIOLoopBound((context, send), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: at) {
            let (context, send) = bound.value
            send(context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        inbound(context: context) { context in
            context.fireChannelRead(NIOAny(buffer))
            context.fireChannelReadComplete()
        }
    }

    /// Each delayed read fires its own read-complete.
    func channelReadComplete(context: ChannelHandlerContext) {}

    /// After the reads before it, as a closed connection would be noticed.
    func channelInactive(context: ChannelHandlerContext) {
        inbound(context: context) { $0.fireChannelInactive() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let event = EventLoopTransfer(event)
        inbound(context: context) { $0.fireUserInboundEventTriggered(event.wrappedValue) }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        outbound(context: context) { $0.writeAndFlush(NIOAny(buffer), promise: promise) }
    }

    /// Each delayed write flushes itself.
    func flush(context: ChannelHandlerContext) {}

    /// After the writes before it: an answer followed by a close reaches the client whole, then the close.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        outbound(context: context) { $0.close(mode: mode, promise: promise) }
    }
}

/// Carries a value that is only touched on one event loop across a `@Sendable` boundary.
private struct EventLoopTransfer<Value>: @unchecked Sendable {
    let wrappedValue: Value
    init(_ value: Value) { wrappedValue = value }
}
