import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 (port 0) whose answer to each request is scripted, so transport tests
/// exercise libcurl against real sockets, keep-alive and connection cuts rather than a mock.
///
/// Only for tests: it records everything it reads, forever. Shared by the HTTP and XML tests (a library target,
/// not a copy in each), hence `package` rather than `public`: nothing outside this package sees it.
package final class LoopbackHTTPServer: Sendable {
    package struct Request: Sendable {
        package var method: String
        /// Path and query, as sent.
        package var uri: String
        package var headers: HTTPHeaders
        package var body: [UInt8]
        /// Which accepted connection carried it (1 for the first), to tell reuse from a fresh connection.
        package var connection: Int

        package var path: String { String(uri.prefix { $0 != "?" }) }
        package var bodyText: String { String(decoding: body, as: UTF8.self) }
        package func header(_ name: String) -> String? { headers.first(name: name) }
    }

    package indirect enum Reply: Sendable {
        /// Without a content-length header in `headers`, the body goes out chunked. `thenClose` closes the
        /// connection right after writing (with a content-length larger than the body: an answer cut short).
        case respond(
            status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = [], after: TimeAmount? = nil,
            thenClose: Bool = false)
        /// Reads the whole request, then closes the connection without a byte of answer.
        case closeWithoutAnswer
        /// Reads the whole request and then says nothing, keeping the connection open.
        case neverAnswer
        /// Holds the answer until `parties` requests with this reply's path are waiting, then releases them all:
        /// proves concurrency without relying on timing.
        case holdUntil(parties: Int, then: Reply)

        package static func text(_ body: String, status: Int = 200, headers: [(String, String)] = []) -> Reply {
            .respond(status: status, headers: [("content-length", "\(body.utf8.count)")] + headers, body: Array(body.utf8))
        }
    }

    package typealias Script = @Sendable (Request) -> Reply

    package let port: Int
    package var baseURL: String { "http://127.0.0.1:\(port)" }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let state: State

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, state: State) throws {
        self.group = group
        self.channel = channel
        self.state = state
        guard let port = channel.localAddress?.port else { throw ServerError.noPort }
        self.port = port
    }

    private enum ServerError: Error { case noPort }

    /// Starts a server, runs `body`, and shuts the server down whatever `body` does.
    package static func with<T: Sendable>(
        _ script: @escaping Script, _ body: (LoopbackHTTPServer) async throws -> T
    ) async throws -> T {
        let server = try await start(script)
        do {
            let result = try await body(server)
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    package static func start(_ script: @escaping Script) async throws -> LoopbackHTTPServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let state = State(script: script)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    let connection = state.nextConnection()
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(Handler(state: state, connection: connection))
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
            return try LoopbackHTTPServer(group: group, channel: channel, state: state)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Closes the listener and every open connection, including ones parked by `.neverAnswer`.
    package func shutdown() async throws {
        // Parked barrier releases hold their handler and channel context: drop them or they outlive the server.
        state.locked { $0.waiting.removeAll() }
        try? await channel.close()
        try await group.shutdownGracefully()
    }

    package var requests: [Request] { state.locked { $0.requests } }
    package var connectionCount: Int { state.locked { $0.connections } }
    /// Connections that are closed on the server's side (by the server or by the client).
    package var closedConnectionCount: Int { state.locked { $0.closedConnections } }
    package func requests(path: String) -> [Request] { requests.filter { $0.path == path } }
    package func requestCount(path: String) -> Int { requests(path: path).count }

    /// A loopback port that refuses connections for as long as the returned value lives: a TCP socket bound to it
    /// but never listening (Linux answers a connect with RST: ECONNREFUSED). A port taken from a server that was
    /// then shut down is not enough: a server of a test running beside it can bind it meanwhile and answer.
    package final class RefusingPort: @unchecked Sendable {
        package let port: Int
        private let fd: Int32

        package init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw POSIXError(.EMFILE) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else { close(fd); throw POSIXError(.EINVAL) }
            self.fd = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(fd) }
    }

    // MARK: - Internals

    private final class State: @unchecked Sendable {
        struct Values {
            var requests: [Request] = []
            var connections = 0
            var closedConnections = 0
            var waiting: [String: [@Sendable () -> Void]] = [:]
        }

        let script: Script
        private let lock = NSLock()
        private var values = Values()

        init(script: @escaping Script) { self.script = script }

        func locked<T>(_ body: (inout Values) -> T) -> T { lock.withLock { body(&values) } }

        func nextConnection() -> Int { locked { $0.connections += 1; return $0.connections } }

        /// Parks `release` until `parties` releases wait on `key`; returns the ones to run now.
        func park(_ release: @escaping @Sendable () -> Void, key: String, parties: Int) -> [@Sendable () -> Void] {
            locked { values in
                values.waiting[key, default: []].append(release)
                guard values.waiting[key]!.count >= parties else { return [] }
                return values.waiting.removeValue(forKey: key)!
            }
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let state: State
        private let connection: Int
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(state: State, connection: Int) {
            self.state = state
            self.connection = connection
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                let request = Request(
                    method: head.method.rawValue, uri: head.uri, headers: head.headers, body: body, connection: connection)
                self.head = nil
                state.locked { $0.requests.append(request) }
                perform(state.script(request), for: request, context: context)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.locked { $0.closedConnections += 1 }
            context.fireChannelInactive()
        }

        private func perform(_ reply: Reply, for request: Request, context: ChannelHandlerContext) {
            switch reply {
            case .respond(let status, let headers, let body, let delay, let close):
                if let delay {
                    context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                        self.write(status: status, headers: headers, body: body, close: close, context: context)
                    }
                } else {
                    write(status: status, headers: headers, body: body, close: close, context: context)
                }
            case .closeWithoutAnswer:
                context.close(promise: nil)
            case .neverAnswer:
                break
            case .holdUntil(let parties, let then):
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let eventLoop = context.eventLoop
                let release: @Sendable () -> Void = {
                    eventLoop.execute {
                        let (handler, context) = bound.value
                        handler.perform(then, for: request, context: context)
                    }
                }
                for ready in state.park(release, key: request.path, parties: parties) { ready() }
            }
        }

        private func write(
            status: Int, headers: [(String, String)], body: [UInt8], close: Bool, context: ChannelHandlerContext
        ) {
            let head = HTTPResponseHead(
                version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: HTTPHeaders(headers))
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if !body.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            }
            if close {
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
