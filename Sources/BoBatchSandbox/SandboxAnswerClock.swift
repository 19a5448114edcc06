import Foundation
import NIOCore
import NIOHTTP1

/// Keeps a request's time in the server the way a client across a network would see it: from the moment its
/// bytes reach the connection to the moment the answer's bytes leave it.
///
/// Hummingbird runs a route's handler as a Swift task, away from the connection's event loop: a request is
/// read on the event loop, handed to a task, and its answer handed back to the event loop to be written. On
/// this machine each hand-off costs 0.1-0.5 ms (waking a thread, more when the virtual CPU was idle). When the
/// latency was counted inside the handler, those hand-offs came on top of every request's "50 ms", outside the
/// time the sandbox counted as busy: every client, bo-batch and the benchmark's plain script alike, lost about
/// 1 % of the ceiling to the sandbox itself, and more on a quiet machine.
///
/// So this handler sits on the connection, just above TLS and below HTTP: it notes when a request's first bytes
/// arrive (``ConnectionAnswerClock/takeArrival()``), and when the handler has its answer ready before the
/// answer's time (``ConnectionAnswerClock/hold(until:)``), it keeps the answer's bytes and writes them from the
/// event loop's own timer at exactly that time. What the client sees is unchanged: the answer never leaves
/// earlier than the request's latency after it came in.
final class ConnectionAnswerClock: @unchecked Sendable {
    private let lock = NSLock()
    /// The next bytes read start a request (the connection is new, or it has started writing an answer).
    private var expectingRequest = true
    private var arrival: NIODeadline?
    private var holdUntil: NIODeadline?

    /// Where a request's first bytes came in, taken once (nil if the connection did not see them).
    func takeArrival() -> NIODeadline? {
        lock.withLock {
            defer { arrival = nil }
            return arrival
        }
    }

    /// The next answer written on this connection leaves no earlier than `deadline`.
    func hold(until deadline: NIODeadline) {
        lock.withLock { holdUntil = deadline }
    }

    fileprivate func bytesRead(at now: NIODeadline) {
        lock.withLock {
            guard expectingRequest else { return }
            expectingRequest = false
            arrival = now
        }
    }

    /// An answer starts: the next bytes read belong to the next request. Returns the hold asked for it, if any.
    fileprivate func answerStarts() -> NIODeadline? {
        lock.withLock {
            expectingRequest = true
            defer { holdUntil = nil }
            return holdUntil
        }
    }

    // MARK: Finding a connection's clock from its channel

    /// Request contexts find their connection's clock by its channel (Hummingbird gives a route the channel,
    /// not its handlers).
    private static let clocks = Locked<[ObjectIdentifier: ConnectionAnswerClock]>([:])

    static func of(_ channel: any Channel) -> ConnectionAnswerClock? {
        clocks.withLock { $0[ObjectIdentifier(channel)] }
    }

    fileprivate static func register(_ clock: ConnectionAnswerClock, for channel: any Channel) {
        clocks.withLock { $0[ObjectIdentifier(channel)] = clock }
    }

    fileprivate static func unregister(_ channel: any Channel) {
        clocks.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// The channel side of ``ConnectionAnswerClock``: stamps arrivals, and holds an answer's writes until its time.
final class AnswerClockHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let clock = ConnectionAnswerClock()
    /// Writes kept until the answer's time, in order, and whether a flush was asked for meanwhile.
    private var held: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var holding = false
    private var flushHeld = false
    /// A close asked for while an answer is held (`Connection: close`): it follows the answer, as it would have.
    private var closeHeld: (CloseMode, EventLoopPromise<Void>?)?

    func handlerAdded(context: ChannelHandlerContext) {
        ConnectionAnswerClock.register(clock, for: context.channel)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ConnectionAnswerClock.unregister(context.channel)
        failHeld()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.bytesRead(at: .now())
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if holding {
            held.append((unwrapOutboundIn(data), promise))
            return
        }
        guard let deadline = clock.answerStarts(), deadline > .now() else {
            context.write(data, promise: promise)
            return
        }
        holding = true
        held.append((unwrapOutboundIn(data), promise))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.release(context: context)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if holding {
            flushHeld = true
        } else {
            context.flush()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if holding, mode != .input {
            closeHeld = (mode, promise)
        } else {
            context.close(mode: mode, promise: promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failHeld()
        context.fireChannelInactive()
    }

    private func release(context: ChannelHandlerContext) {
        guard holding else { return }
        holding = false
        let writes = held
        held = []
        for (buffer, promise) in writes { context.write(wrapOutboundOut(buffer), promise: promise) }
        if flushHeld {
            flushHeld = false
            context.flush()
        }
        if let (mode, promise) = closeHeld {
            closeHeld = nil
            context.close(mode: mode, promise: promise)
        }
    }

    private func failHeld() {
        let writes = held
        held = []
        holding = false
        flushHeld = false
        for (_, promise) in writes { promise?.fail(ChannelError.ioOnClosedChannel) }
        if let (_, promise) = closeHeld {
            closeHeld = nil
            promise?.fail(ChannelError.alreadyClosed)
        }
    }
}

extension AnswerClockHandler {
    /// Puts the handler just below HTTP (above TLS, if any): where the HTTP/1 response encoder writes.
    static func add(to channel: any Channel) throws {
        let pipeline = channel.pipeline.syncOperations
        let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
        try pipeline.addHandler(AnswerClockHandler(), position: .before(encoder))
    }
}
