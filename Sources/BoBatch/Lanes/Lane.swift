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
    /// Commits the intents workers prepare ahead, several workers' together (see ``LaneCommitter``).
    let committer: LaneCommitter
    let logger: Logger
    /// Where the lane hands the answers it recorded to the result writer (the run's only lane; see ``ResultFeed``).
    let feed: ResultFeed?

    public convenience init(
        run: String, provider: any Provider, ledger: Ledger, settings: LaneSettings, clock: any LaneClock = SystemLaneClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, wallClock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.init(run: run, provider: provider, ledger: ledger, settings: settings, clock: clock, random: random, wallClock: wallClock, feed: nil)
    }

    init(
        run: String, provider: any Provider, ledger: Ledger, settings: LaneSettings, clock: any LaneClock = SystemLaneClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, wallClock: @escaping @Sendable () -> Date = Date.init,
        feed: ResultFeed?
    ) {
        self.feed = feed
        self.provider = provider
        let laneLedger = ledger.lane(run: run, provider: provider.id)
        self.ledger = laneLedger
        self.settings = settings
        self.clock = clock
        self.random = random
        self.wallClock = wallClock
        var logger = Logger(label: "bo-batch.lane")
        logger[metadataKey: "provider"] = "\(provider.id.rawValue)"
        self.logger = logger
        state = LaneState(provider: provider.id, started: clock.now())
        pacer = LanePacer(policy: settings.pacingPolicy, clock: clock, random: random)
        committer = LaneCommitter(ledger: laneLedger, groupSize: max(1, settings.pacing.concurrency / 2), feed: feed)
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
        _ = try ledger.recover(now: wallClock())
        let counts = try ledger.stateCounts()
        await state.setTotals(total: counts.values.reduce(0, +), done: counts.filter { $0.key.isSettled }.values.reduce(0, +))

        try await reconcileInterrupted()
        let queue = WorkQueue(ledger: ledger, chunkSize: provider.maxBatch, clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, settings.pacing.concurrency) {
                // On the transport's own thread when it has one (Dynadot): see `send`.
                group.addTask(executorPreference: provider.taskExecutor) { try await self.work(queue) }
            }
            try await group.waitForAll()
        }
        // Every queued intent belongs to a chunk that was sent or withdrawn, so this finds nothing; never leave one.
        try committer.commit()
        if let halt = await state.halt {
            try markUnsentAsHalted(halt)
        }
        return await state.finalReport()
    }

    // MARK: the loop

    func work(_ queue: WorkQueue) async throws {
        // A clear answer this worker has not recorded yet, and the next chunk with its intent already committed:
        // both are taken care of while a request is on the wire (see `send`). Every way out of the loop (the end,
        // a halt, a signal, an error) records the one and withdraws the other first; neither is ever dropped.
        var unrecorded: UnrecordedAnswer?
        var ahead: ReadyChunk?
        do {
            loop: while !Task.isCancelled, await state.halt == nil {
                let ready: ReadyChunk
                if let taken = ahead {
                    ready = taken
                    ahead = nil
                } else {
                    switch try await queue.next() {
                    case .done:
                        break loop
                    case .wait(let seconds):
                        try await record(&unrecorded)
                        try await clock.sleep(seconds: seconds)
                        continue loop
                    case .chunk(let chunk):
                        let sendable = try await filterSkipped(chunk.pairs)
                        guard !sendable.isEmpty else { continue loop }
                        ready = ReadyChunk(chunk: WorkChunk(pairs: sendable))
                    }
                }
                (unrecorded, ahead) = try await send(ready, queue: queue, recordingMeanwhile: unrecorded) { try await queue.next() }
            }
        } catch {
            // A signal (the gate throws once the lane is cancelled) or a ledger error: the answer in hand still lands.
            try? withdraw(ahead)
            try? await record(&unrecorded)
            throw error
        }
        try withdraw(ahead)
        try await record(&unrecorded)
    }

    /// A create's clear answer, every domain with its verdict, held by the worker that sent it until its next
    /// request has left: then the commit that records it runs while that request is on the wire, instead of
    /// between the two requests (for Dynadot, one request at a time per account, that commit was a fifth of the
    /// gap between requests). Only for a provider that can be asked what it holds: if the process dies before
    /// the commit, the create's intent is still open, and the rerun settles it by lookup (``recover``) rather than
    /// sending it again.
    struct UnrecordedAnswer {
        var updates: [PairUpdate]
        var pairs: [PairRow]
        var intent: Int64
        var answeredAt: Date
        /// When the request left, if its intent was committed ahead of it.
        var sent: Date?
    }

    /// A chunk about to be sent, and its intent if that was committed while the worker's previous request was on
    /// the wire. Then only the pacer stands between an answer and the next request. Like a deferred answer, only
    /// for a provider that can be asked what it holds: a kill after the commit leaves the intent open, and the
    /// rerun asks the provider before sending anything. A chunk that never leaves is withdrawn (``withdraw(_:)``).
    struct ReadyChunk {
        var chunk: WorkChunk
        var intent: Int64?
        /// The intent, queued in the lane's ``LaneCommitter`` and maybe not committed yet: ``resolve(_:)`` commits it.
        var ticket: LaneCommitter.Ticket?
    }

    /// Makes sure `ready`'s intent is committed (committing the lane's queue if it is still in there) and fills it in.
    func resolve(_ ready: inout ReadyChunk) throws {
        guard ready.intent == nil, let ticket = ready.ticket else { return }
        ready.intent = try committer.intent(of: ticket)
    }

    /// Records `answer` (as `send` would have on the spot) and empties it.
    func record(_ answer: inout UnrecordedAnswer?) async throws {
        guard let held = answer else { return }
        answer = nil
        try ledger.record(held.updates, of: held.pairs, settling: held.intent, as: .settled, now: held.answeredAt, sent: held.sent)
        feed?.add(held.updates, of: held.pairs, at: held.answeredAt)
        await state.settled(held.updates.count)
    }

    /// Takes back the intent of a chunk that was made ready and will not be sent: its pairs are pending again,
    /// and no request is counted for it.
    func withdraw(_ ready: ReadyChunk?) throws {
        guard var ready else { return }
        try resolve(&ready)
        guard let intent = ready.intent else { return }
        try ledger.withdrawSend(intent: intent, now: wallClock())
    }

    /// Takes the worker's next chunk with `take` and queues its intent with `earlier` (this worker's held answer,
    /// emptied once handed over) in the lane's ``LaneCommitter``, while a request is on the wire: they commit in
    /// one transaction, with other workers' when several are queued, and at the latest when the chunk is sent
    /// (``resolve(_:)``). Nothing when no chunk is ready at once, or when the provider cannot be asked later what it
    /// holds; then `earlier` is left for the caller to record.
    func prepareAhead(_ take: () async throws -> WorkTake, recording earlier: inout UnrecordedAnswer?) async throws -> ReadyChunk? {
        guard provider.canLookUp, await state.halt == nil, !Task.isCancelled else { return nil }
        guard case .chunk(let chunk) = try await take() else { return nil }
        let sendable = try await filterSkipped(chunk.pairs)
        guard !sendable.isEmpty else { return nil }
        let held = earlier
        let ticket = try committer.add(LaneCommitter.Entry(answer: held, pairs: sendable, now: wallClock()))
        earlier = nil
        if let held { await state.settled(held.updates.count) }
        return ReadyChunk(chunk: WorkChunk(pairs: sendable, notBefore: chunk.notBefore), ticket: ticket)
    }

    /// Applies the provider's policy (1API's cutoff) before anything is sent.
    func filterSkipped(_ pairs: [PairRow]) async throws -> [PairRow] {
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

    /// Sends one chunk and handles its answer. While its request is on the wire, `earlier` (an answer of this
    /// worker not recorded yet) is recorded, and the next chunk is taken with `take` and its intent committed,
    /// both in one transaction when there is a next chunk.
    /// Returns this chunk's answer unrecorded when it is clear and the provider can be asked later (see
    /// ``UnrecordedAnswer``; every other outcome is recorded here), and the next chunk, ready to go.
    func send(
        _ ready: ReadyChunk, queue: WorkQueue, recordingMeanwhile earlier: UnrecordedAnswer? = nil, take: (() async throws -> WorkTake)? = nil
    ) async throws -> (UnrecordedAnswer?, ReadyChunk?) {
        var earlier = earlier
        var ready = ready
        let chunk = ready.chunk
        let sentAt: Double
        do {
            try resolve(&ready)
            sentAt = try await gate().sentAt
        } catch {
            try? withdraw(ready)
            try? await record(&earlier)
            throw error
        }
        guard await state.halt == nil else {
            try withdraw(ready)
            try await record(&earlier)
            return (nil, nil)
        }
        let domains = chunk.pairs.map(\.item.domain)
        let intent: Int64
        // The request's start, for the report, when its intent was committed earlier.
        var sent: Date?
        if let committed = ready.intent {
            intent = committed
            sent = wallClock()
        } else {
            do {
                intent = try ledger.beginSend(chunk.pairs, now: wallClock())
            } catch {
                try? await record(&earlier)
                throw error
            }
        }
        ledger.checkpointInBackground()
        await state.countCreate()
        logger.debug("create sent", metadata: ["intent": "\(intent)", "domains": "\(domains.count)", "first": "\(domains[0])"])
        let items = chunk.pairs.map(\.item)
        let started = clock.now()
        // Shielded like every create (see `shielded`): the answer is awaited even once the lane is cancelled.
        // (`Task.immediate` would hand the request to the transport before this worker turns to its commits; its
        // gain was within the noise of a loaded machine, so the well-trodden path stays.)
        //
        // With a transport of one thread (`Provider.taskExecutor`), the worker and its create run on that thread,
        // so an answer is read, classified and the next request sent without a hand-off to another thread (on an
        // idle virtual machine each one wakes a vCPU); the commits below move to the global executor meanwhile,
        // leaving the thread to the request.
        let executor = provider.taskExecutor
        let call = Task(executorPreference: executor) { [provider] in await provider.submit(items) }
        var sideError: (any Error)?
        var next: ReadyChunk?
        await withTaskExecutorPreference(executor == nil ? nil : globalConcurrentExecutor) {
            do {
                if let take { next = try await prepareAhead(take, recording: &earlier) }
                try await record(&earlier)
            } catch {
                sideError = error
            }
        }
        let result = await call.value
        if let sideError {
            try? withdraw(next)
            throw sideError
        }
        logger.debug("create answered", metadata: [
            "intent": "\(intent)", "domains": "\(domains.count)", "duration_ms": "\(Int(((clock.now() - started) * 1000).rounded()))",
            "result": "\(Self.summary(result))",
        ])
        do {
            return (try await handle(result, of: chunk, intent: intent, sentAt: sentAt, sent: sent, queue: queue), next)
        } catch {
            try? withdraw(next)
            throw error
        }
    }

    /// What `send` does with an answer: records it (or hands a clear one back unrecorded), and retries, reconciles,
    /// splits or halts as the answer asks.
    private func handle(
        _ result: SubmitResult, of chunk: WorkChunk, intent: Int64, sentAt: Double, sent: Date?, queue: WorkQueue
    ) async throws -> UnrecordedAnswer? {
        let domains = chunk.pairs.map(\.item.domain)
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
            if missing.isEmpty, provider.canLookUp {
                return UnrecordedAnswer(updates: updates, pairs: chunk.pairs, intent: intent, answeredAt: wallClock(), sent: sent)
            }
            for pair in missing {
                updates.append(PairUpdate(domain: pair.item.domain, state: .unknown, code: .noVerdict, message: "the provider's answer did not mention this domain", unanswered: true))
            }
            let now = wallClock()
            try ledger.record(updates, of: chunk.pairs, settling: intent, as: .settled, now: now, sent: sent)
            if missing.isEmpty { feed?.add(updates, of: chunk.pairs, at: now) }
            await state.settled(updates.count - missing.count)
            if !missing.isEmpty { try await reconcile(missing.map { $0.afterTry(unanswered: true) }, cause: "answer without a verdict", queue: queue) }

        case .refused(let reason, let retryAfter):
            await state.needBusyCheck()
            await state.countFailure("refused")
            // Refused before anything was done: the provider certainly did not act, so this send does not count
            // as one that may have landed (DNSPod's single blind resend is kept for those), nor against the
            // attempt budget; refusals have their own, counted in a row (an answer in between resets it).
            let refusals = (chunk.pairs.map(\.refusalsInARow).max() ?? 0) + 1
            if refusals >= settings.maxRefusalsInARow {
                try ledger.record(
                    domains.map { PairUpdate(domain: $0, state: .failed, code: .refused, message: "gave up after \(refusals) refusals in a row; last: \(reason)") },
                    of: chunk.pairs, settling: intent, as: .refused, now: wallClock(), sent: sent)
                await state.settled(domains.count)
            } else {
                try ledger.record(
                    domains.map { PairUpdate(domain: $0, state: .pending, code: .refused, message: "refused, will retry: \(reason)") },
                    of: chunk.pairs, settling: intent, as: .refused, now: wallClock(), sent: sent)
                let wait = await pacer.refused(reason: reason, retryAfter: retryAfter, sentAt: sentAt)
                try ledger.noteWait(intent: intent, seconds: wait)
                let status = await pacer.status()
                logger.info("refused; slowing the lane", metadata: [
                    "intent": "\(intent)", "resend_in": "\(String(format: "%.1f", wait))s\(retryAfter == nil ? "" : " (Retry-After)")",
                    "rate": "\(String(format: "%.2f", status.rate))/s", "refusals_in_a_row": "\(status.streak)", "reason": "\(reason)",
                ])
                await queue.requeue(WorkChunk(pairs: chunk.pairs.map { $0.afterRefusal() }, notBefore: clock.now() + wait))
            }

        case .maybeProcessed(let reason):
            await state.needBusyCheck()
            await state.countFailure("maybe_processed")
            try ledger.record(
                domains.map { PairUpdate(domain: $0, state: .unknown, code: .unclear, message: "no usable answer: \(reason)", unanswered: true) },
                of: chunk.pairs, settling: intent, as: .unclear, now: wallClock(), sent: sent)
            try await reconcile(chunk.pairs.map { $0.afterTry(unanswered: true) }, cause: reason, queue: queue)

        case .batchFailed(let reason, let verdictIfAlone):
            await state.needBusyCheck()
            await state.countFailure("batch_failed")
            try ledger.record(
                domains.map { PairUpdate(domain: $0, state: .unknown, code: .batchError, message: "request failed as a whole: \(reason)", unanswered: true) },
                of: chunk.pairs, settling: intent, as: .batchFailed, now: wallClock(), sent: sent)
            let busySeen = try await gate().busySeen
            let pairs = chunk.pairs.map { $0.afterSend(unanswered: true) }
            guard let absent = try await settleByLookup(pairs, cause: reason) else { return nil }
            if absent.isEmpty { return nil }
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
            await state.countFailure("account")
            try ledger.record(
                domains.map { PairUpdate(domain: $0, state: .failed, code: .halted, message: "\(provider.id.rawValue) lane halted: \(reason). Fix: \(fix)") },
                of: chunk.pairs, settling: intent, as: .halt, now: wallClock(), sent: sent)
            await state.setHalt(reason: reason, fix: fix)
        }
        return nil
    }

    /// Puts pairs back to be sent again; awaited, so a worker never finds the queue empty while work is on its way back.
    func requeueAsPending(_ pairs: [PairRow], message: String, queue: WorkQueue) async throws {
        try ledger.record(pairs.map { PairUpdate(domain: $0.item.domain, state: .pending, code: .requeued, message: message) }, now: wallClock())
        // Reconciliation can gather more pairs than one create takes (a lookup of many interrupted pairs):
        // never hand the provider more than its limit.
        let size = max(1, provider.maxBatch)
        for start in stride(from: 0, to: pairs.count, by: size) {
            await queue.requeue(WorkChunk(pairs: Array(pairs[start..<min(start + size, pairs.count)])))
        }
    }

    // MARK: gates

    /// Waits for the pacer, and — after anything unclear — for the account to be idle. Returns when the request
    /// may start and whether the account was seen busy. Throws once the lane is cancelled: nothing new starts
    /// after a signal, while requests already on the wire finish (see `shielded`).
    @discardableResult
    func gate() async throws -> (sentAt: Double, busySeen: Bool) {
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
    static func shielded<T: Sendable>(_ call: @escaping @Sendable () async -> T) async -> T {
        await Task { await call() }.value
    }

    func markUnsentAsHalted(_ halt: (reason: String, fix: String)) throws {
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
