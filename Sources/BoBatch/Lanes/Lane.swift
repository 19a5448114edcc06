import Foundation
import Logging

/// One provider account's worker: takes the run's pairs for that provider from the ledger, chunks them to
/// the provider's limit, paces them, sends them, and turns every answer into a recorded state.
///
/// The lane owns every retry and every wait so that each attempt is in the ledger before it happens:
/// a create is preceded by its committed intent; an unclear answer is settled by a lookup before anything
/// is sent again; a batch that fails as a whole is reconciled, then split until each domain has its own verdict.
public final class Lane: Sendable {
    public let provider: any Provider
    /// The run's ledger, scoped to this lane's run and provider.
    let ledger: LaneLedger
    let settings: LaneSettings
    let clock: any LaneClock
    let random: @Sendable () -> Double
    let wallClock: @Sendable () -> Date
    let state: LaneState
    let pacer: LanePacer
    let logger: Logger

    public init(
        run: String, provider: any Provider, ledger: Ledger, settings: LaneSettings, clock: any LaneClock = SystemLaneClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, wallClock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.provider = provider
        self.ledger = ledger.lane(run: run, provider: provider.id)
        self.settings = settings
        self.clock = clock
        self.random = random
        self.wallClock = wallClock
        var logger = Logger(label: "bo-batch.lane")
        logger[metadataKey: "provider"] = "\(provider.id.rawValue)"
        self.logger = logger
        state = LaneState(provider: provider.id, started: clock.now())
        pacer = LanePacer(policy: settings.pacingPolicy, clock: clock, random: random)
    }

    public func progress() async -> LaneProgress {
        var progress = await state.progress()
        progress.pacer = await pacer.status()
        return progress
    }

    /// What the lane has done so far (its report, before `run` returns it).
    func reportSoFar() async -> LaneReport {
        await state.finalReport()
    }

    /// Works until every pair of this provider is settled, given up on, or the lane halts or is cancelled.
    public func run() async throws -> LaneReport {
        let recovered = try ledger.recover(now: wallClock())
        await state.noteInterrupted(recovered.interrupted)
        let counts = try ledger.stateCounts()
        await state.setTotals(total: counts.values.reduce(0, +), done: counts.filter { $0.key.isSettled }.values.reduce(0, +))

        try await reconcileInterrupted()
        let queue = WorkQueue(ledger: ledger, chunkSize: provider.maxBatch, clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, settings.pacing.concurrency) {
                group.addTask { try await self.work(queue) }
            }
            try await group.waitForAll()
        }
        if let halt = await state.halt {
            try markUnsentAsHalted(halt)
        }
        return await state.finalReport()
    }

    // MARK: the loop

    private func work(_ queue: WorkQueue) async throws {
        while !Task.isCancelled, await state.halt == nil {
            switch try await queue.next() {
            case .done:
                return
            case .wait(let seconds):
                try await clock.sleep(seconds: seconds)
            case .chunk(let chunk):
                let sendable = try await filterSkipped(chunk.pairs)
                guard !sendable.isEmpty else { continue }
                try await send(WorkChunk(pairs: sendable), queue: queue)
            }
        }
    }

    /// Applies the provider's policy (1API's cutoff) before anything is sent.
    private func filterSkipped(_ pairs: [PairRow]) async throws -> [PairRow] {
        var keep: [PairRow] = []
        var skipped: [PairUpdate] = []
        let now = wallClock()
        for pair in pairs {
            if let reason = provider.skipReason(for: pair.item, now: now) {
                skipped.append(PairUpdate(domain: pair.item.domain, state: .skipped, code: .policy, message: reason))
            } else {
                keep.append(pair)
            }
        }
        if !skipped.isEmpty {
            try ledger.record(skipped, now: now)
            await state.settled(skipped.count)
        }
        return keep
    }

    private func send(_ chunk: WorkChunk, queue: WorkQueue) async throws {
        let sentAt = try await gate().sentAt
        guard await state.halt == nil else { return }
        let domains = chunk.pairs.map(\.item.domain)
        let intent = try ledger.beginSend(domains, now: wallClock())
        await state.countCreate()
        logger.debug("create sent", metadata: ["intent": "\(intent)", "domains": "\(domains.count)", "first": "\(domains[0])"])
        let items = chunk.pairs.map(\.item)
        let result = await Self.shielded { [provider] in await provider.submit(items) }
        logger.debug("create answered", metadata: ["intent": "\(intent)", "result": "\(Self.summary(result))"])
        if case .refused = result {} else { await pacer.answered() }
        switch result {
        case .settled(let verdicts):
            var updates: [PairUpdate] = []
            var missing: [PairRow] = []
            for pair in chunk.pairs {
                if let verdict = verdicts[pair.item.domain] {
                    updates.append(Self.update(pair.item.domain, verdict))
                } else {
                    missing.append(pair)
                }
            }
            for pair in missing {
                updates.append(PairUpdate(domain: pair.item.domain, state: .unknown, code: .noVerdict, message: "the provider's answer did not mention this domain", unanswered: true))
            }
            try ledger.record(updates, settling: intent, as: .settled, now: wallClock())
            await state.settled(updates.count - missing.count)
            if !missing.isEmpty { try await reconcile(missing.map { $0.afterTry(unanswered: true) }, cause: "answer without a verdict", queue: queue) }

        case .refused(let reason, let retryAfter):
            await state.needBusyCheck()
            // Refused before anything was done: the provider certainly did not act, so this send does not count
            // as one that may have landed (DNSPod's single blind resend is kept for those), nor against the
            // attempt budget; refusals have their own, counted in a row (an answer in between resets it).
            let refusals = (chunk.pairs.map(\.refusalsInARow).max() ?? 0) + 1
            if refusals >= settings.maxRefusalsInARow {
                try ledger.record(
                    domains.map { PairUpdate(domain: $0, state: .failed, code: .refused, message: "gave up after \(refusals) refusals in a row; last: \(reason)") },
                    settling: intent, as: .refused, now: wallClock())
                await state.settled(domains.count)
            } else {
                try ledger.record(
                    domains.map { PairUpdate(domain: $0, state: .pending, code: .refused, message: "refused, will retry: \(reason)") },
                    settling: intent, as: .refused, now: wallClock())
                let wait = await pacer.refused(reason: reason, retryAfter: retryAfter, sentAt: sentAt)
                let status = await pacer.status()
                logger.info("refused; slowing the lane", metadata: [
                    "intent": "\(intent)", "resend_in": "\(String(format: "%.1f", wait))s\(retryAfter == nil ? "" : " (Retry-After)")",
                    "rate": "\(String(format: "%.2f", status.rate))/s", "refusals_in_a_row": "\(status.streak)", "reason": "\(reason)",
                ])
                await queue.requeue(WorkChunk(pairs: chunk.pairs.map { $0.afterRefusal() }, notBefore: clock.now() + wait))
            }

        case .maybeProcessed(let reason):
            await state.needBusyCheck()
            try ledger.record(
                domains.map { PairUpdate(domain: $0, state: .unknown, code: .unclear, message: "no usable answer: \(reason)", unanswered: true) },
                settling: intent, as: .unclear, now: wallClock())
            try await reconcile(chunk.pairs.map { $0.afterTry(unanswered: true) }, cause: reason, queue: queue)

        case .batchFailed(let reason, let verdictIfAlone):
            await state.needBusyCheck()
            try ledger.record(
                domains.map { PairUpdate(domain: $0, state: .unknown, code: .batchError, message: "request failed as a whole: \(reason)", unanswered: true) },
                settling: intent, as: .batchFailed, now: wallClock())
            let busySeen = try await gate().busySeen
            let pairs = chunk.pairs.map { $0.afterSend(unanswered: true) }
            guard let absent = try await settleByLookup(pairs, cause: reason) else { return }
            if absent.isEmpty { return }
            if busySeen {
                // The account was still busy: the error may have been about that, not about these domains.
                try await requeueAsPending(absent, message: "account was busy when the request failed; will resend: \(reason)", queue: queue)
            } else if absent.count == 1 {
                let update = Self.update(absent[0].item.domain, verdictIfAlone)
                try ledger.record([update], now: wallClock())
                await state.settled(1)
            } else {
                let half = absent.count / 2
                logger.info("batch failed as a whole; splitting to isolate", metadata: ["domains": "\(absent.count)", "reason": "\(reason)"])
                try await requeueAsPending(Array(absent[..<half]), message: "isolating the domain behind: \(reason)", queue: queue)
                try await requeueAsPending(Array(absent[half...]), message: "isolating the domain behind: \(reason)", queue: queue)
            }

        case .halt(let reason, let fix):
            logger.error("lane halted", metadata: ["reason": "\(reason)", "fix": "\(fix)"])
            try ledger.record(
                domains.map { PairUpdate(domain: $0, state: .failed, code: .halted, message: "\(provider.id.rawValue) lane halted: \(reason). Fix: \(fix)") },
                settling: intent, as: .halt, now: wallClock())
            await state.setHalt(reason: reason, fix: fix)
        }
    }

    /// Puts pairs back to be sent again; awaited, so a worker never finds the queue empty while work is on its way back.
    private func requeueAsPending(_ pairs: [PairRow], message: String, queue: WorkQueue) async throws {
        try ledger.record(pairs.map { PairUpdate(domain: $0.item.domain, state: .pending, code: .requeued, message: message) }, now: wallClock())
        // Reconciliation can gather more pairs than one create takes (a lookup of many interrupted pairs):
        // never hand the provider more than its limit.
        let size = max(1, provider.maxBatch)
        for start in stride(from: 0, to: pairs.count, by: size) {
            await queue.requeue(WorkChunk(pairs: Array(pairs[start..<min(start + size, pairs.count)])))
        }
    }

    // MARK: reconciliation

    /// Pairs left `unknown` by an earlier invocation (killed mid-send, or a lookup that did not answer)
    /// are settled by lookup before any new create goes out.
    private func reconcileInterrupted() async throws {
        var after = 0
        let queue = WorkQueue(ledger: ledger, chunkSize: provider.maxBatch, clock: clock)
        while await state.halt == nil {
            let pairs = try ledger.pairs(state: .unknown, afterSeq: after, limit: max(1, provider.maxLookupBatch))
            guard let last = pairs.last else { break }
            after = last.seq
            try await reconcile(pairs, cause: "earlier attempt ended without an answer", queue: queue)
        }
        // Whatever reconciliation proved absent goes out again through the normal path.
        if await queue.hasRequeued {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<max(1, settings.pacing.concurrency) { group.addTask { try await self.workRequeued(queue) } }
                try await group.waitForAll()
            }
        }
    }

    private func workRequeued(_ queue: WorkQueue) async throws {
        while !Task.isCancelled, await state.halt == nil {
            switch await queue.nextRequeued() {
            case .done: return
            case .wait(let seconds): try await clock.sleep(seconds: seconds)
            case .chunk(let chunk): try await send(chunk, queue: queue)
            }
        }
    }

    /// Looks the chunk up: what the provider holds is accepted; what it proves absent is resent (within the
    /// attempt budget); what it cannot tell stays `unknown` with the reason.
    private func reconcile(_ pairs: [PairRow], cause: String, queue: WorkQueue) async throws {
        guard let absent = try await settleByLookup(pairs, cause: cause), !absent.isEmpty else { return }
        var resend: [PairRow] = []
        var giveUp: [PairUpdate] = []
        for pair in absent {
            if pair.tries >= settings.maxAttempts {
                giveUp.append(PairUpdate(domain: pair.item.domain, state: .failed, code: .attempts, message: "gave up after \(pair.tries) attempts; the provider holds no backorder for it; last: \(cause)"))
            } else {
                resend.append(pair)
            }
        }
        if !giveUp.isEmpty {
            try ledger.record(giveUp, now: wallClock())
            await state.settled(giveUp.count)
        }
        if !resend.isEmpty {
            try await requeueAsPending(resend, message: "proven absent at the provider after: \(cause); resending", queue: queue)
        }
    }

    /// Settles what a lookup can settle. Returns the pairs proven absent (or resendable because the provider
    /// has no lookup), or nil when the lookup could not answer (the pairs stay `unknown`).
    private func settleByLookup(_ pairs: [PairRow], cause: String) async throws -> [PairRow]? {
        let size = max(1, provider.maxLookupBatch)
        guard pairs.count > size else { return try await settleByOneLookup(pairs, cause: cause) }
        var absent: [PairRow] = []
        var unsettled = false
        for start in stride(from: 0, to: pairs.count, by: size) {
            guard await state.halt == nil else { return nil }
            if let part = try await settleByOneLookup(Array(pairs[start..<min(start + size, pairs.count)]), cause: cause) {
                absent += part
            } else {
                unsettled = true
            }
        }
        // Resending part of a batch whose other part could not be checked is still safe: each pair stands alone.
        return unsettled && absent.isEmpty ? nil : absent
    }

    private func settleByOneLookup(_ pairs: [PairRow], cause: String) async throws -> [PairRow]? {
        var attempt = 0
        while true {
            let sentAt = try await gate().sentAt
            await state.countLookup()
            let items = pairs.map(\.item)
            let answer = await Self.shielded { [provider] in await provider.lookup(items) }
            logger.info("lookup", metadata: ["asked": "\(pairs.count)", "cause": "\(cause)", "answer": "\(Self.summary(answer))"])
            if case .unavailable = answer {} else { await pacer.answered() }
            switch answer {
            case .found(let held):
                let updates = pairs.compactMap { pair -> PairUpdate? in
                    guard let reference = held[pair.item.domain] else { return nil }
                    return PairUpdate(domain: pair.item.domain, state: .accepted, code: .lookup, message: "placed; confirmed by lookup after: \(cause)", reference: reference.isEmpty ? nil : reference)
                }
                try ledger.record(updates, now: wallClock())
                await state.settled(updates.count)
                return pairs.filter { held[$0.item.domain] == nil }
            case .unsupported(let reason):
                // Without a lookup a resend is a gamble: allow exactly one. Only sends that may have landed count
                // (refused ones do not: the provider said it did nothing).
                let (once, twice) = (pairs.filter { $0.unanswered < 2 }, pairs.filter { $0.unanswered >= 2 })
                if !twice.isEmpty {
                    try ledger.record(
                        twice.map { PairUpdate(domain: $0.item.domain, state: .unknown, code: .noLookup, message: "sent twice without a clear answer and \(reason); check at the provider") },
                        now: wallClock())
                }
                return once
            case .unavailable(let reason):
                attempt += 1
                await state.needBusyCheck()
                if attempt >= settings.maxLookupAttempts {
                    try ledger.record(
                        pairs.map { PairUpdate(domain: $0.item.domain, state: .unknown, code: .lookupFailed, message: "\(cause); the lookup that would settle it failed (\(reason)); rerun to check again") },
                        now: wallClock())
                    return nil
                }
                // A lookup that failed may mean the account is asked too often: the lane slows, and this lookup waits.
                try await clock.sleep(seconds: await pacer.refused(reason: "lookup failed: \(reason)", retryAfter: nil, sentAt: sentAt))
            case .halt(let reason, let fix):
                await state.setHalt(reason: reason, fix: fix)
                return nil
            }
        }
    }

    // MARK: gates

    /// Waits for the pacer, and — after anything unclear — for the account to be idle. Returns when the request
    /// may start and whether the account was seen busy. Throws once the lane is cancelled: nothing new starts
    /// after a signal, while requests already on the wire finish (see `shielded`).
    @discardableResult
    private func gate() async throws -> (sentAt: Double, busySeen: Bool) {
        var busySeen = false
        if await state.takeBusyCheck(), provider.checksAccountBusy {
            var polls = 0
            while polls < settings.maxBusyPolls {
                _ = try await pacer.acquire()
                polls += 1
                await state.countBusyPoll()
                let answer = await provider.accountBusy()
                if answer == .idle { break }
                if answer == .busy { busySeen = true }
                try await clock.sleep(seconds: settings.backoff.delay(attempt: min(polls, 4), retryAfter: nil, random: 0.5 + random() / 2))
            }
        }
        let sentAt = try await pacer.acquire()
        try Task.checkCancellation()
        return (sentAt, busySeen)
    }

    /// Runs a provider call to its end even when the lane is cancelled (the first SIGINT/SIGTERM): an answer on
    /// its way is recorded with its verdict, never thrown away. The transport's time limit bounds the wait.
    private static func shielded<T: Sendable>(_ call: @escaping @Sendable () async -> T) async -> T {
        await Task { await call() }.value
    }

    private func markUnsentAsHalted(_ halt: (reason: String, fix: String)) throws {
        var after = 0
        while true {
            let pending = try ledger.pairs(state: .pending, afterSeq: after, limit: 1000)
            guard let last = pending.last else { break }
            after = last.seq
            try ledger.record(
                pending.map { PairUpdate(domain: $0.item.domain, state: .failed, code: .halted, message: "not sent: \(provider.id.rawValue) lane halted: \(halt.reason). Fix: \(halt.fix), then rerun") },
                now: wallClock())
        }
    }

    /// A short form of an answer for log lines.
    static func summary(_ result: SubmitResult) -> String {
        switch result {
        case .settled(let v): "settled \(v.count)"
        case .refused(let reason, _): "refused: \(reason)"
        case .maybeProcessed(let reason): "maybe processed: \(reason)"
        case .batchFailed(let reason, _): "batch failed: \(reason)"
        case .halt(let reason, _): "halt: \(reason)"
        }
    }

    static func summary(_ result: LookupResult) -> String {
        switch result {
        case .found(let held): "found \(held.count)"
        case .unavailable(let reason): "unavailable: \(reason)"
        case .unsupported: "unsupported"
        case .halt(let reason, _): "halt: \(reason)"
        }
    }

    static func update(_ domain: DomainName, _ verdict: Verdict) -> PairUpdate {
        switch verdict {
        case .accepted(let reference, let message): PairUpdate(domain: domain, state: .accepted, code: .ok, message: message, reference: reference)
        case .already(let reference, let message): PairUpdate(domain: domain, state: .already, code: .already, message: message, reference: reference)
        case .rejected(let message): PairUpdate(domain: domain, state: .rejected, code: .rejected, message: message)
        case .skipped(let message): PairUpdate(domain: domain, state: .skipped, code: .skipped, message: message)
        }
    }
}

extension PairRow {
    /// After a send that got an answer other than a refusal (mirrors what the ledger counted); `unanswered` when
    /// it may have landed without an answer.
    func afterSend(unanswered: Bool) -> PairRow {
        var copy = self
        copy.attempts += 1
        copy.refusalsInARow = 0
        if unanswered { copy.unanswered += 1 }
        return copy
    }

    /// After a refusal: nothing happened at the provider.
    func afterRefusal() -> PairRow {
        var copy = self
        copy.attempts += 1
        copy.refusalsInARow += 1
        return copy
    }

    /// After a send that got no verdict: also one more try against this invocation's budget.
    func afterTry(unanswered: Bool) -> PairRow {
        var copy = afterSend(unanswered: unanswered)
        copy.tries += 1
        return copy
    }
}

struct WorkChunk: Sendable {
    var pairs: [PairRow]
    /// Not to be sent before this lane-clock time (a refused request's wait).
    var notBefore: Double = 0
}

/// What a worker gets from the queue.
enum WorkTake: Sendable {
    case chunk(WorkChunk)
    /// Nothing is ready yet, but a refused chunk will be in this many seconds.
    case wait(Double)
    case done
}

/// Hands out chunks: first those put back (split halves, refused, proven absent), then fresh pending
/// pairs from the ledger in input order, read page by page so memory stays flat.
/// A refused chunk waits for its own time while fresh work goes ahead, so one refusal never idles the lane.
actor WorkQueue {
    let ledger: LaneLedger
    let chunkSize: Int
    let clock: any LaneClock
    private var requeued: [WorkChunk] = []
    private var cursor = 0
    private var exhausted = false

    init(ledger: LaneLedger, chunkSize: Int, clock: any LaneClock) {
        self.ledger = ledger
        self.chunkSize = chunkSize
        self.clock = clock
    }

    var hasRequeued: Bool { !requeued.isEmpty }

    func requeue(_ chunk: WorkChunk) { requeued.append(chunk) }

    /// The first put-back chunk that is due; or how long until one is; or `.done` when none is left.
    func nextRequeued() -> WorkTake {
        guard !requeued.isEmpty else { return .done }
        let now = clock.now()
        if let index = requeued.firstIndex(where: { $0.notBefore <= now }) {
            return .chunk(requeued.remove(at: index))
        }
        return .wait(requeued.map(\.notBefore).min()! - now)
    }

    func next() throws -> WorkTake {
        let ready = nextRequeued()
        if case .chunk = ready { return ready }
        if !exhausted {
            let pairs = try ledger.pairs(state: .pending, afterSeq: cursor, limit: chunkSize)
            if let last = pairs.last {
                cursor = last.seq
                return .chunk(WorkChunk(pairs: pairs))
            }
            exhausted = true
        }
        return ready
    }
}

/// The lane's shared bookkeeping.
actor LaneState {
    private var report: LaneReport
    private var busyCheckNeeded = false
    private var total = 0
    private var doneAtStart = 0
    private var doneNow = 0
    private let started: Double

    init(provider: ProviderID, started: Double) {
        report = LaneReport(provider: provider)
        self.started = started
    }

    var halt: (reason: String, fix: String)? { report.halt }
    func setHalt(reason: String, fix: String) { if report.halt == nil { report.halt = (reason, fix) } }
    func needBusyCheck() { busyCheckNeeded = true }
    func takeBusyCheck() -> Bool {
        defer { busyCheckNeeded = false }
        return busyCheckNeeded
    }
    func countCreate() { report.creates += 1 }
    func countLookup() { report.lookups += 1 }
    func countBusyPoll() { report.busyPolls += 1 }
    func noteInterrupted(_ n: Int) { report.interrupted = n }
    func setTotals(total: Int, done: Int) {
        self.total = total
        doneAtStart = done
    }
    func settled(_ n: Int) { doneNow += n }
    func finalReport() -> LaneReport { report }
    func progress() -> LaneProgress {
        LaneProgress(provider: report.provider, total: total, done: doneAtStart + doneNow, doneThisInvocation: doneNow, startedAt: started, halted: report.halt != nil, pacer: nil)
    }
}
