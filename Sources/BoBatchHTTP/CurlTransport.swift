import CCurl
import Foundation
import Synchronization

/// `HTTPTransport` over libcurl's easy interface.
///
/// Each of `maxConcurrent` workers is a dedicated thread owning one reusable easy handle, so blocking
/// `curl_easy_perform` never occupies the Swift concurrency pool and keep-alive connections are reused per
/// worker. Requests wait in one FIFO queue and go to whichever worker is free.
///
/// A request with `idempotent == false` (a paid create) is sent at most once. The hazard: libcurl silently
/// re-sends a request when a *reused* connection closes before any answer byte arrives (`Curl_retry_request`),
/// which for a paid create would mean paying twice. Every (re)send passes libcurl's pre-request callback
/// (`CURLOPT_PREREQFUNCTION`, called right before a request goes out on a new or reused connection), so the
/// second call for a create aborts the transfer instead, and the failure says the create may have been
/// processed. Creates can therefore ride kept-alive connections (only recently used ones, see
/// ``maxIdleSecondsForCreates``): against a real API a fresh connection costs a TCP and a TLS handshake — two
/// extra round trips per create. Earlier versions gave each create a fresh connection (`CURLOPT_FRESH_CONNECT`);
/// `CurlTransportTests` shows both the hazard and the guard.
///
/// New connections stay cheap: the parsed CA store is cached per worker (``CurlTrust``), and TLS sessions are
/// shared between the workers so the handshake resumes (``CurlShare``); neither can make libcurl send twice.
///
/// Cancelling the calling task drops a queued request (`.neverSent`) or aborts a running one (classified
/// like any other failure: `.maybeProcessed` once bytes went out).
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    /// Connecting never gets more than this, even under a longer whole-exchange timeout.
    static let maxConnectSeconds: Double = 10
    /// A create reuses only a connection idle for less than this (`CURLOPT_MAXAGE_CONN`). Servers close idle
    /// connections after some seconds (Apache 5, most more); a create sent as that close is under way fails as
    /// "maybe processed" and costs a lookup. Busy lanes reuse within milliseconds; a slow lane (DNSPod, 6 a
    /// minute) opens a new connection per create, where a handshake costs nothing that matters.
    public static let maxIdleSecondsForCreates = 2

    public let maxConcurrent: Int
    public let userAgent: String
    /// The PEM file that verifies servers (see ``CurlTrust``); nil leaves libcurl's defaults untouched.
    public let caFile: String?
    private let pool: WorkerPool

    /// - Parameters:
    ///   - caFile: trust exactly this PEM file; by default ``CurlTrust``'s choice (the sandbox's certificate
    ///     under `submit --sandbox`, else `BO_BATCH_CA_FILE`, else the system bundle), read once here.
    ///   - maxIdleSecondsForCreates: see ``maxIdleSecondsForCreates``; tests that check reuse itself lift it,
    ///     so a loaded machine pausing the test for a few seconds cannot make the answer depend on the clock.
    public init(
        maxConcurrent: Int = 1, userAgent: String, caFile: String? = CurlTrust.caFileForNewTransport(),
        maxIdleSecondsForCreates: Int = CurlTransport.maxIdleSecondsForCreates
    ) {
        // Before any handle exists, in any thread: curl_global_init is not safe to race with handle creation.
        _ = CurlGlobal.initialised
        self.maxConcurrent = max(1, maxConcurrent)
        self.userAgent = userAgent
        self.caFile = caFile
        pool = WorkerPool(workers: self.maxConcurrent, settings: .init(
            userAgent: userAgent, caFile: caFile, maxIdleSecondsForCreates: maxIdleSecondsForCreates))
    }

    deinit {
        pool.shutdown()
    }

    /// With one worker thread (Dynadot: one request at a time per account), that thread also runs the tasks that
    /// prefer it: an answer is read, handed to its task and the next request sent all on one thread. On an idle
    /// virtual machine every hand-off to another thread wakes a vCPU from its halt; a Dynadot lane made three or
    /// four between an answer and its next request.
    public var taskExecutor: (any TaskExecutor)? { pool.executor }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let job = Job(request: request)
        let pool = self.pool
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                pool.enqueue(job, continuation: continuation)
            }
        } onCancel: {
            pool.cancel(job)
        }
        return try result.get()
    }
}

/// Process-wide libcurl setup, run exactly once.
enum CurlGlobal {
    static let initialised: CURLcode = {
        // A peer closing a socket mid-write must surface as a send error, not kill the process;
        // with CURLOPT_NOSIGNAL libcurl does not guard against SIGPIPE itself.
        signal(SIGPIPE, SIG_IGN)
        return curl_global_init(Int(CURL_GLOBAL_ALL))
    }()
}

extension CurlTransport {
    /// A status line starts a new response (after a 100 Continue, say): only the final one's headers count.
    /// Works on the line's bytes: Foundation's trimming and lowercasing cost more than the rest of a request's
    /// bookkeeping, and this runs for every header line of every answer.
    static func record(headerLine: String, into headers: inout [String: String]) {
        var line = headerLine
        line.withUTF8 { record(headerBytes: $0, into: &headers) }
    }

    /// ``record(headerLine:into:)`` straight from libcurl's buffer, with no string made of the whole line.
    static func record(headerBytes bytes: UnsafeBufferPointer<UInt8>, into headers: inout [String: String]) {
        if bytes.starts(with: "HTTP/".utf8) {
            headers.removeAll()
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 10 }
        func trimmed(_ range: Range<Int>) -> Range<Int> {
            var lower = range.lowerBound, upper = range.upperBound
            while lower < upper, isSpace(bytes[lower]) { lower += 1 }
            while upper > lower, isSpace(bytes[upper - 1]) { upper -= 1 }
            return lower..<upper
        }
        let nameRange = trimmed(0..<colon)
        guard !nameRange.isEmpty else { return }
        let name = String(unsafeUninitializedCapacity: nameRange.count) { out in
            for (i, b) in bytes[nameRange].enumerated() { out[i] = (b >= 65 && b <= 90) ? b + 32 : b }
            return nameRange.count
        }
        headers[name] = String(decoding: UnsafeBufferPointer(rebasing: bytes[trimmed((colon + 1)..<bytes.count)]), as: UTF8.self)
    }

    /// Header injection guard: a CR or LF would let a value smuggle extra headers or a second request.
    static func isValidHeader(name: String, value: String) -> Bool {
        // A switch, not a Set: this runs for every header of every request.
        func forbiddenInName(_ byte: UInt8) -> Bool {
            switch byte {
            case 0, 9, 10, 13, 32, UInt8(ascii: ":"), UInt8(ascii: ";"): true
            default: false
            }
        }
        return !name.isEmpty && !name.utf8.contains(where: forbiddenInName)
            && !value.utf8.contains(where: { $0 == 0 || $0 == 10 || $0 == 13 })
    }
}

// MARK: - Jobs and workers

private typealias JobResult = Result<HTTPResponse, TransportError>

private final class Job: @unchecked Sendable {
    let request: HTTPRequest
    /// Guarded by the pool's condition lock; whoever takes the job out of the queue resumes it, once.
    var continuation: CheckedContinuation<JobResult, Never>?

    private let flagLock = NSLock()
    private var cancelRequested = false

    init(request: HTTPRequest) { self.request = request }

    var isCancelled: Bool { flagLock.withLock { cancelRequested } }
    func requestCancel() { flagLock.withLock { cancelRequested = true } }

    static func cancelledBeforeSending(_ request: HTTPRequest) -> JobResult {
        .failure(TransportError(
            kind: .neverSent,
            message: redact(
                "cancelled before anything was sent — nothing was sent (\(request.method.rawValue) "
                    + "\(urlForMessages(request.url)))", secrets: request.secrets),
            code: Int(CURLE_ABORTED_BY_CALLBACK.rawValue)))
    }
}

/// What every transfer of one transport shares.
private struct TransferSettings: Sendable {
    var userAgent: String
    var caFile: String?
    var maxIdleSecondsForCreates: Int
}

/// Runs Swift jobs on a one-thread ``WorkerPool``'s thread, between its transfers.
final class CurlThreadExecutor: TaskExecutor, @unchecked Sendable {
    fileprivate weak var pool: WorkerPool?
    /// The thread, once started.
    fileprivate let thread = Mutex<pthread_t?>(nil)

    /// Whether its thread has exited and let go of the pool (for tests).
    var threadHasExited: Bool { pool == nil }

    /// Whether the caller runs on this executor's thread (for tests).
    var isCurrentThread: Bool {
        guard let thread = thread.withLock({ $0 }) else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        guard let pool, pool.enqueue(swift: unowned) else {
            // The thread has stopped: the global executor runs it.
            globalConcurrentExecutor.enqueue(unowned)
            return
        }
    }
}

private final class WorkerPool: @unchecked Sendable {
    private enum Item {
        case transfer(Job)
        case swift(UnownedJob)
    }

    private let condition = NSCondition()
    private var queue: [Job] = []
    /// Swift jobs for ``executor``, run before the next transfer.
    private var swiftJobs: [UnownedJob] = []
    private var stopping = false
    private var threadsRunning = 0
    /// Set when the last worker must close the share itself (``shutdown()`` called from its own thread).
    private var closeShareOnExit = false
    private let exited = DispatchGroup()
    private let share = CurlShare()
    let executor: CurlThreadExecutor?

    init(workers: Int, settings: TransferSettings) {
        executor = workers == 1 ? CurlThreadExecutor() : nil
        threadsRunning = workers
        executor?.pool = self
        for index in 0..<workers {
            exited.enter()
            let thread = Thread { [self] in
                executor?.thread.withLock { $0 = pthread_self() }
                let performer = TransferPerformer(settings: settings, share: share)
                while let item = next() {
                    switch item {
                    case .swift(let job):
                        job.runSynchronously(on: executor!.asUnownedTaskExecutor())
                    case .transfer(let job):
                        let result = job.isCancelled ? Job.cancelledBeforeSending(job.request) : performer.perform(job)
                        // The job left the queue under the lock, so no one else can resume it.
                        job.continuation?.resume(returning: result)
                        job.continuation = nil
                    }
                }
                performer.close()
                condition.lock()
                let closeShare = closeShareOnExit
                condition.unlock()
                if closeShare { share.close() }
                exited.leave()
            }
            thread.name = "bo-batch-curl-\(index + 1)"
            thread.start()
        }
    }

    func enqueue(_ job: Job, continuation: CheckedContinuation<JobResult, Never>) {
        condition.lock()
        if job.isCancelled || stopping {
            condition.unlock()
            continuation.resume(returning: Job.cancelledBeforeSending(job.request))
            return
        }
        job.continuation = continuation
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Flag first, then look in the queue: `enqueue` checks the flag under the lock, so a cancel racing
    /// with it is seen by one side or the other.
    func cancel(_ job: Job) {
        job.requestCancel()
        condition.lock()
        guard let index = queue.firstIndex(where: { $0 === job }) else {
            condition.unlock()
            return
        }
        queue.remove(at: index)
        let continuation = job.continuation
        job.continuation = nil
        condition.unlock()
        continuation?.resume(returning: Job.cancelledBeforeSending(job.request))
    }

    /// Queues a Swift job for the thread; false once the thread has stopped.
    func enqueue(swift job: UnownedJob) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard threadsRunning > 0 else { return false }
        swiftJobs.append(job)
        condition.signal()
        return true
    }

    private func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && swiftJobs.isEmpty && !stopping { condition.wait() }
        if !swiftJobs.isEmpty { return .swift(swiftJobs.removeFirst()) }
        if !queue.isEmpty { return .transfer(queue.removeFirst()) }
        threadsRunning -= 1
        return nil
    }

    /// Lets the workers finish the queue, then waits until each has freed its handle.
    ///
    /// Called on the worker's own thread (a task that preferred it dropped the transport's last reference), it
    /// cannot wait for that thread to exit: it lets it finish its queue and close the share as it goes.
    func shutdown() {
        let onWorker = executor?.isCurrentThread == true
        condition.lock()
        stopping = true
        closeShareOnExit = onWorker
        condition.broadcast()
        condition.unlock()
        guard !onWorker else { return }
        exited.wait()
        share.close()
    }
}

// MARK: - One transfer

/// Per-transfer state the C callbacks reach through their user-data pointer. Touched only by the worker thread.
private final class TransferState {
    let job: Job
    let maxBytes: Int
    var body: [UInt8] = []
    /// Bytes of the body received so far (kept in `body`, or written to `bodyFile`).
    var received = 0
    /// Where the body goes instead of `body` (``HTTPRequest/bodyFile``).
    let bodyFile: Int32?
    var headers: [String: String] = [:]
    var bodyTooLarge = false
    var cancelled = false
    /// Times libcurl was about to send the request (the pre-request callback): more than once means a resend.
    var sends = 0
    /// The pre-request callback stopped libcurl from sending a non-idempotent request a second time.
    var resendBlocked = false

    init(job: Job) {
        self.job = job
        maxBytes = max(0, job.request.maxResponseBytes)
        bodyFile = job.request.bodyFile
    }
}

/// Owns one easy handle for the life of its worker thread; its connections and cached CA store live in it
/// (TLS sessions and DNS live in the transport's share).
private final class TransferPerformer {
    private let settings: TransferSettings
    private let share: CurlShare
    private var handle: UnsafeMutableRawPointer?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(settings: TransferSettings, share: CurlShare) {
        self.settings = settings
        self.share = share
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    func close() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
        errorBuffer.deallocate()
    }

    func perform(_ job: Job) -> JobResult {
        let request = job.request
        guard CurlGlobal.initialised == CURLE_OK else {
            return .failure(TransportError(
                kind: .neverSent,
                message: "libcurl failed to initialise (curl \(CurlGlobal.initialised.rawValue)) — nothing was sent",
                code: Int(CurlGlobal.initialised.rawValue)))
        }
        if handle == nil { handle = curl_easy_init() }
        guard let handle else {
            return .failure(TransportError(
                kind: .neverSent, message: "libcurl could not create a handle — nothing was sent",
                code: Int(CURLE_FAILED_INIT.rawValue)))
        }
        // Reset drops every option of the previous request but keeps live connections and caches.
        curl_easy_reset(handle)
        errorBuffer[0] = 0

        let state = TransferState(job: job)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        let prepared = withExtendedLifetime(state) { () -> CURLcode in
            let statePointer = Unmanaged.passUnretained(state).toOpaque()
            let setup = configure(handle, for: request, state: statePointer, headerList: &headerList)
            guard setup == CURLE_OK else { return setup }
            return curl_easy_perform(handle)
        }
        if prepared == CURLE_OK {
            var status = 0
            _ = bb_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            return .success(HTTPResponse(status: status, headers: state.headers, body: state.body))
        }
        var requestSize = 0
        var pretransfer: curl_off_t = 0
        var osErrno = 0
        _ = bb_curl_getinfo_long(handle, CURLINFO_OS_ERRNO, &osErrno)
        _ = bb_curl_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &requestSize)
        _ = bb_curl_getinfo_off(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer)
        var detail = String(cString: errorBuffer)
        if detail.isEmpty { detail = String(cString: curl_easy_strerror(prepared)) }
        let failure = CurlFailure(
            code: prepared.rawValue, requestBytesSent: requestSize, pretransferMicroseconds: Int(pretransfer),
            osErrno: Int32(truncatingIfNeeded: osErrno), bodyTooLarge: state.bodyTooLarge, cancelled: state.cancelled,
            detail: detail, caFile: settings.caFile, resendBlocked: state.resendBlocked)
        return .failure(failure.error(for: request))
    }

    /// Sets every option of one request. A non-OK code means nothing was sent.
    private func configure(
        _ handle: UnsafeMutableRawPointer, for request: HTTPRequest, state: UnsafeMutableRawPointer,
        headerList: inout UnsafeMutablePointer<curl_slist>?
    ) -> CURLcode {
        var code = CURLE_OK
        func set(_ option: CURLoption, _ value: Int) {
            if code == CURLE_OK { code = bb_curl_setopt_long(handle, option, value) }
        }
        // libcurl copies string options (since 7.17), so the C strings need only live for the call.
        func set(_ option: CURLoption, _ value: String) {
            if code == CURLE_OK { code = value.withCString { bb_curl_setopt_ptr(handle, option, $0) } }
        }
        func check(_ result: CURLcode) {
            if code == CURLE_OK { code = result }
        }

        set(CURLOPT_URL, request.url)
        set(CURLOPT_PROTOCOLS_STR, "http,https")
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_USERAGENT, settings.userAgent)
        set(CURLOPT_ACCEPT_ENCODING, "")
        set(CURLOPT_SSL_VERIFYPEER, 1)
        set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile = settings.caFile {
            // A bundle file and no directory: the only setup libcurl caches the parsed store for (CurlTrust).
            set(CURLOPT_CAINFO, caFile)
            check(bb_curl_setopt_ptr(handle, CURLOPT_CAPATH, nil))
        }
        if let shared = share.handle { check(bb_curl_setopt_ptr(handle, CURLOPT_SHARE, shared)) }
        set(CURLOPT_FOLLOWLOCATION, 0)
        let timeout = Self.milliseconds(request.timeoutSeconds)
        set(CURLOPT_TIMEOUT_MS, timeout)
        set(CURLOPT_CONNECTTIMEOUT_MS, min(timeout, Self.milliseconds(CurlTransport.maxConnectSeconds)))
        check(bb_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer))

        // The at-most-once guard: libcurl calls this before every send, its own silent resend included.
        check(bb_curl_setopt_prereq_cb(handle) { context, _, _, _, _ in
            let state = Unmanaged<TransferState>.fromOpaque(context!).takeUnretainedValue()
            state.sends += 1
            guard state.sends > 1, !state.job.request.idempotent else { return CURL_PREREQFUNC_OK }
            state.resendBlocked = true
            return CURL_PREREQFUNC_ABORT
        })
        check(bb_curl_setopt_ptr(handle, CURLOPT_PREREQDATA, state))
        if !request.idempotent { set(CURLOPT_MAXAGE_CONN, settings.maxIdleSecondsForCreates) }

        switch request.method {
        case .get:
            set(CURLOPT_HTTPGET, 1)
        case .post:
            check(setBody(handle, request.body ?? []))
        case .delete:
            if let body = request.body { check(setBody(handle, body)) }
            set(CURLOPT_CUSTOMREQUEST, "DELETE")
        }

        // "Expect:" stops libcurl from pausing up to a second for a 100-continue on bodies over 1 KiB.
        var lines = [String]()
        for (name, value) in request.headers {
            guard CurlTransport.isValidHeader(name: name, value: value) else {
                if code == CURLE_OK { code = CURLE_BAD_FUNCTION_ARGUMENT }
                _ = "invalid header \"\(name)\": empty name, or a line break, colon or NUL where none may be".withCString {
                    strncpy(errorBuffer, $0, Int(CURL_ERROR_SIZE) - 1)
                }
                return code
            }
            // "Name;" is libcurl's syntax for a header with an empty value ("Name:" would remove it).
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        if !request.headers.contains(where: { $0.name.lowercased() == "expect" }) { lines.append("Expect:") }
        for line in lines {
            guard let extended = line.withCString({ curl_slist_append(headerList, $0) }) else {
                if code == CURLE_OK { code = CURLE_OUT_OF_MEMORY }
                return code
            }
            headerList = extended
        }
        check(bb_curl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList))

        check(bb_curl_setopt_data_cb(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let state = Unmanaged<TransferState>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            guard state.received + length <= state.maxBytes else {
                state.bodyTooLarge = true
                return 0  // any count other than `length` makes libcurl abort with CURLE_WRITE_ERROR
            }
            state.received += length
            if length > 0, let data, let file = state.bodyFile {
                var written = 0
                while written < length {
                    let n = write(file, data + written, length - written)
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { return 0 }  // the file cannot take it: the transfer fails (CURLE_WRITE_ERROR)
                    written += n
                }
            } else if length > 0, let data {
                // A declared length (within the cap) is reserved once: appending a 17 MB list chunk by chunk
                // grew the buffer by doubling, holding old and new copies at each step.
                if state.body.isEmpty, let declared = state.headers["content-length"].flatMap(Int.init), declared > length {
                    state.body.reserveCapacity(min(declared, state.maxBytes))
                }
                data.withMemoryRebound(to: UInt8.self, capacity: length) {
                    state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
                }
            }
            return length
        })
        check(bb_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, state))
        check(bb_curl_setopt_data_cb(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let state = Unmanaged<TransferState>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            guard length > 0, let data else { return length }
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                CurlTransport.record(headerBytes: UnsafeBufferPointer(start: $0, count: length), into: &state.headers)
            }
            return length
        })
        check(bb_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, state))
        set(CURLOPT_NOPROGRESS, 0)
        check(bb_curl_setopt_xferinfo_cb(handle) { context, _, _, _, _ in
            let state = Unmanaged<TransferState>.fromOpaque(context!).takeUnretainedValue()
            guard state.job.isCancelled else { return 0 }
            state.cancelled = true
            return 1
        })
        check(bb_curl_setopt_ptr(handle, CURLOPT_XFERINFODATA, state))
        return code
    }

    /// Size first, then a copy: the caller's array need not outlive the call, and binary bodies with NULs survive.
    private func setBody(_ handle: UnsafeMutableRawPointer, _ body: [UInt8]) -> CURLcode {
        let sized = bb_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
        guard sized == CURLE_OK else { return sized }
        if body.isEmpty { return "".withCString { bb_curl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, $0) } }
        return body.withUnsafeBytes { bb_curl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
    }

    /// libcurl reads 0 as "no limit": never let rounding produce it.
    static func milliseconds(_ seconds: Double) -> Int {
        let cap = 24 * 3600 * 1000
        guard seconds.isFinite else { return cap }
        return min(cap, max(1, Int((seconds * 1000).rounded(.up))))
    }
}
