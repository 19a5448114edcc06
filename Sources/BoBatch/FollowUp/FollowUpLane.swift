import Foundation
import Logging

/// One provider account's `refresh` or `cancel` worker, with the same guarantees as the submit lane: it wraps a
/// ``Lane`` for that lane's pacer (`<P>_THREADS`/`<P>_RATE`, adaptive on refusals and `Retry-After`), its gate
/// (Dynadot's `is_processing` after anything unclear), its halt state and its shielded calls (an answer on its
/// way when a signal comes is recorded, never thrown away), so both commands pace and stop exactly as `submit`.
///
/// Refresh asks only about orders whose fate can still change, chunked to `followUp.refreshBatch` (all of a run's
/// orders in one call for a provider that lists the whole account). Cancel commits each request's intent before
/// it is sent; an unclear answer is settled by the provider's `lookup` (still held: sent again; absent:
/// cancelled), never by a blind resend.
public final class FollowUpLane: Sendable {
    public let provider: any Provider
    let lane: Lane
    let ledger: Ledger
    let settings: LaneSettings
    let clock: any LaneClock
    let wallClock: @Sendable () -> Date
    let tally: FollowUpTally

    public init(
        setup: LaneSetup, ledger: Ledger, clock: any LaneClock = SystemLaneClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, wallClock: @escaping @Sendable () -> Date = Date.init
    ) {
        provider = setup.provider
        settings = setup.settings
        self.ledger = ledger
        self.clock = clock
        self.wallClock = wallClock
        // The lane's own ledger scope is not used: a follow-up lane works across runs and records through `ledger`.
        lane = Lane(run: "", provider: setup.provider, ledger: ledger, settings: setup.settings, clock: clock, random: random, wallClock: wallClock)
        tally = FollowUpTally(provider: setup.provider.id)
    }

    var id: ProviderID { provider.id }

    /// What the lane has done so far, a halt included (for when a signal ended it by throwing).
    public func reportSoFar() async -> FollowUpReport {
        var report = await tally.report
        let laneReport = await lane.reportSoFar()
        report.halt = laneReport.halt
        report.busyPolls = laneReport.busyPolls
        return report
    }

    /// Runs `work` on `concurrency` workers until the queue is empty, the lane halts or the task is cancelled.
    private func drain(_ queue: OrderQueue, _ handle: @escaping @Sendable (OrderQueue.Chunk) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, settings.pacing.concurrency) {
                group.addTask {
                    while !Task.isCancelled, await self.lane.state.halt == nil {
                        switch try await queue.next() {
                        case .done: return
                        case .wait(let seconds): try await self.clock.sleep(seconds: seconds)
                        case .chunk(let chunk): try await handle(chunk)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// After a refusal: puts the chunk back after the pacer's wait, or gives up on it once refusals ran out.
    private func refused(_ chunk: OrderQueue.Chunk, reason: String, retryAfter: Double?, sentAt: Double, queue: OrderQueue) async -> Bool {
        await lane.state.needBusyCheck()
        let refusals = chunk.refusals + 1
        if refusals >= settings.maxRefusalsInARow {
            await tally.update { $0.incomplete += chunk.rows.count; $0.note("gave up after \(refusals) refusals in a row; last: \(reason)") }
            return false
        }
        let wait = await lane.pacer.refused(reason: reason, retryAfter: retryAfter, sentAt: sentAt)
        lane.logger.info("refused; slowing the lane", metadata: ["resend_in": "\(String(format: "%.1f", wait))s", "reason": "\(reason)"])
        var again = chunk
        again.refusals = refusals
        again.notBefore = clock.now() + wait
        await queue.requeue(again)
        return true
    }

    // MARK: refresh

    /// Asks the provider what became of every order of `runs` whose fate can still change, and records each answer.
    public func refresh(runs: [String]) async throws -> FollowUpReport {
        guard let batch = provider.followUp.refreshBatch else {
            // Nothing to ask (DNSPod's get-domain-back is not a backorder): its sends are reported as they are.
            var placed = 0
            for run in runs { placed += try ledger.stateCounts(run: run)[id].map { ($0[.accepted] ?? 0) + ($0[.already] ?? 0) } ?? 0 }
            await tally.update { [note = provider.followUp.refreshNote ?? "\(id.rawValue) has no refresh", placed] in
                $0.notOffered = note
                $0.orders = placed
            }
            return await reportSoFar()
        }
        if provider.followUp.refreshStreams {
            for run in runs {
                guard !Task.isCancelled, await lane.state.halt == nil else { break }
                try await refreshWholeAccount(run: run)
            }
            return await reportSoFar()
        }
        let ledger = ledger
        let id = id
        let queue = OrderQueue(runs: runs, chunkSize: batch, clock: clock) { run, after, limit in
            try ledger.placedOrders(run: run, provider: id, afterID: after, limit: limit)
        }
        try await drain(queue) { chunk in try await self.refresh(chunk, queue: queue) }
        return await reportSoFar()
    }

    func refresh(_ chunk: OrderQueue.Chunk, queue: OrderQueue) async throws {
        let sentAt = try await lane.gate().sentAt
        guard await lane.state.halt == nil else { return }
        await tally.update { $0.requests += 1; $0.orders += chunk.rows.count }
        let orders = chunk.rows.map(\.order)
        let now = wallClock()
        let result = await Lane.shielded { [provider] in await provider.refresh(orders, now: now) }
        if case .refused = result {} else { await lane.pacer.answered() }
        switch result {
        case .fates(let reports):
            var updates: [(row: PlacedOrderRow, report: FateReport)] = []
            updates.reserveCapacity(chunk.rows.count)
            var missing = 0
            for row in chunk.rows {
                if let report = reports[row.order.domain] { updates.append((row, report)) } else { missing += 1 }
            }
            let changed = try ledger.recordFates(run: chunk.run, provider: id, updates, at: wallClock())
            let unknown = updates.filter { $0.report.fate == .unknown }
            await tally.update { [answered = updates.count, missing] report in
                report.answered += answered
                report.changed += changed
                report.notPossible += unknown.count
                report.incomplete += missing
                for u in unknown { report.note("\(u.row.order.domain): fate unknown: \(u.report.detail)") }
                if missing > 0 { report.note("\(missing) orders not mentioned in the answer; a rerun asks again") }
            }
        case .refused(let reason, let retryAfter):
            await tally.update { $0.orders -= chunk.rows.count }
            _ = await refused(chunk, reason: reason, retryAfter: retryAfter, sentAt: sentAt, queue: queue)
        case .unavailable(let reason):
            // No usable answer: the fates stay as they were; a rerun asks again.
            await lane.state.needBusyCheck()
            await tally.update { $0.incomplete += chunk.rows.count; $0.note("no answer for \(chunk.rows.count) orders: \(reason)") }
        case .halt(let reason, let fix):
            lane.logger.error("lane halted", metadata: ["reason": "\(reason)", "fix": "\(fix)"])
            await lane.state.setHalt(reason: reason, fix: fix)
            await tally.update { $0.incomplete += chunk.rows.count }
        }
    }

    /// A whole-account refresh of one run's orders (`followUp.refreshStreams`): the orders are read a page at a
    /// time into one compact ``OrderSet``, and each slice of reports the provider hands over is recorded in its
    /// own transaction as it comes, so memory does not grow with the run (no report per order is held). A refusal
    /// asks again after the pacer's wait, like a chunk put back; slices recorded before a failure stay recorded.
    func refreshWholeAccount(run: String) async throws {
        var orders = OrderSet()
        var after = 0
        while true {
            let page = try ledger.placedOrders(run: run, provider: id, afterID: after, limit: 1000)
            for row in page { orders.append(id: row.id, row.order) }
            guard let last = page.last, page.count == 1000 else { break }
            after = last.id
        }
        guard !orders.isEmpty else { return }
        let recorder = FateRecorder(ledger: ledger, run: run, provider: id, orders: orders, wallClock: wallClock)
        var refusals = 0
        while true {
            let sentAt = try await lane.gate().sentAt
            guard await lane.state.halt == nil else { return }
            await tally.update { [count = orders.count] in $0.requests += 1; $0.orders += count }
            let now = wallClock()
            let result = await Lane.shielded { [provider, orders] in await provider.refresh(orders, now: now, into: recorder.record) }
            if case .refused = result {} else { await lane.pacer.answered() }
            if case .fates(let rest) = result, !rest.isEmpty {
                // A provider may return what it did not hand over: recorded the same way.
                recorder.record(rest.compactMap { domain, report in orders.index(of: domain.ascii).map { ($0, report) } })
            }
            try recorder.failure.map { throw $0 }
            switch result {
            case .fates:
                let missing = recorder.unanswered
                await recorder.addCounts(to: tally)
                await tally.update { report in
                    report.incomplete += missing
                    if missing > 0 { report.note("\(missing) orders not mentioned in the answer; a rerun asks again") }
                }
                return
            case .refused(let reason, let retryAfter):
                await lane.state.needBusyCheck()
                refusals += 1
                await tally.update { [count = orders.count] in $0.orders -= count }
                if refusals >= settings.maxRefusalsInARow {
                    let missing = recorder.unanswered
                    await recorder.addCounts(to: tally)
                    await tally.update { [refusals] in $0.incomplete += missing; $0.note("gave up after \(refusals) refusals in a row; last: \(reason)") }
                    return
                }
                let wait = await lane.pacer.refused(reason: reason, retryAfter: retryAfter, sentAt: sentAt)
                lane.logger.info("refused; slowing the lane", metadata: ["resend_in": "\(String(format: "%.1f", wait))s", "reason": "\(reason)"])
                try await clock.sleep(seconds: wait)
            case .unavailable(let reason):
                // No usable answer: the fates not handed over stay as they were; a rerun asks again.
                await lane.state.needBusyCheck()
                let missing = recorder.unanswered
                await recorder.addCounts(to: tally)
                await tally.update { $0.incomplete += missing; $0.note("no answer for \(missing) orders: \(reason)") }
                return
            case .halt(let reason, let fix):
                lane.logger.error("lane halted", metadata: ["reason": "\(reason)", "fix": "\(fix)"])
                await lane.state.setHalt(reason: reason, fix: fix)
                let missing = recorder.unanswered
                await recorder.addCounts(to: tally)
                await tally.update { $0.incomplete += missing }
                return
            }
        }
    }

    // MARK: cancel

    /// Sorts the selected orders of this provider: to withdraw, to settle first (an earlier cancel unclear), won
    /// (cannot be cancelled), refused before, already final. Reads only.
    public func planCancel(_ selection: CancelSelection) throws -> CancelPlan {
        var plan = CancelPlan(provider: id)
        plan.notOffered = provider.followUp.cancelBatch == nil ? (provider.followUp.cancelNote ?? "\(id.rawValue) has no cancel") : nil
        for run in selection.runs {
            var after = 0
            while true {
                let page = try ledger.cancelOrders(run: run, provider: id, afterID: after, limit: 1000)
                guard let last = page.last else { break }
                after = last.placed.id
                for row in page where selection.domains?.contains(row.placed.order.domain.ascii) ?? true {
                    switch (row.placed.fate, row.cancel) {
                    case (.won?, _): plan.won.append(row.placed)
                    case (let fate?, _) where fate.isFinal: plan.final += 1
                    case (_, .cancelled?): plan.final += 1
                    case (_, .refused?): plan.refusedBefore.append((row.placed, row.message))
                    case (_, .unclear?), (_, .sending?): plan.toSettle[run, default: []].append(row.placed)
                    default: plan.toSend[run, default: []].append(row.placed)
                    }
                }
                if page.count < 1000 { break }
            }
        }
        return plan
    }

    /// Withdraws what `plan` says: settles the unclear first, then sends the rest in chunks of `cancelBatch`.
    public func cancel(_ plan: CancelPlan) async throws -> FollowUpReport {
        await tally.update { report in
            report.orders = plan.sendCount + plan.settleCount
            report.nothingToDo = plan.final
            report.notPossible += plan.won.count + plan.refusedBefore.count
            for row in plan.won { report.note("\(row.order.domain): won: cannot be cancelled") }
            for (row, message) in plan.refusedBefore { report.note("\(row.order.domain): refused before: \(message)") }
        }
        guard let batch = provider.followUp.cancelBatch, plan.notOffered == nil else {
            await tally.update { [note = plan.notOffered ?? ""] report in
                report.notOffered = note
                report.notPossible += plan.sendCount + plan.settleCount
            }
            return await reportSoFar()
        }
        let runs = plan.toSend.keys.sorted()
        let queue = OrderQueue(runs: runs, chunkSize: batch, clock: clock) { run, after, limit in
            // The plan already holds the orders: page through it as the ledger would be paged.
            let rows = plan.toSend[run] ?? []
            let start = rows.firstIndex { $0.id > after } ?? rows.count
            return Array(rows[start..<min(start + limit, rows.count)])
        }
        for (run, rows) in plan.toSettle.sorted(by: { $0.key < $1.key }) {
            try ledger.recoverCancels(run: run, provider: id, now: wallClock())
            try await settleCancels(OrderQueue.Chunk(run: run, rows: rows), cause: "an earlier cancel ended without a clear answer", queue: queue)
        }
        try await drain(queue) { chunk in try await self.cancel(chunk, queue: queue) }
        return await reportSoFar()
    }

    func cancel(_ chunk: OrderQueue.Chunk, queue: OrderQueue) async throws {
        let sentAt = try await lane.gate().sentAt
        guard await lane.state.halt == nil else { return }
        let intent = try ledger.beginCancel(run: chunk.run, provider: id, chunk.rows, now: wallClock())
        await tally.update { $0.requests += 1 }
        let orders = chunk.rows.map(\.order)
        let result = await Lane.shielded { [provider] in await provider.cancel(orders) }
        if case .refused = result {} else { await lane.pacer.answered() }
        switch result {
        case .settled(let verdicts):
            var updates: [CancelUpdate] = []
            var missing: [PlacedOrderRow] = []
            for row in chunk.rows {
                switch verdicts[row.order.domain] {
                case .cancelled(let message)?: updates.append(CancelUpdate(row: row, state: .cancelled, message: message))
                case .refused(let message)?: updates.append(CancelUpdate(row: row, state: .refused, message: message))
                case nil:
                    missing.append(row)
                    updates.append(CancelUpdate(row: row, state: .unclear, message: "the provider's answer did not mention this order", unanswered: true))
                }
            }
            try ledger.recordCancels(run: chunk.run, provider: id, updates, intent: intent, outcome: "settled", now: wallClock())
            let cancelled = updates.filter { $0.state == .cancelled }.count
            await tally.update { [updates] report in
                report.answered += cancelled
                for u in updates where u.state == .refused {
                    report.notPossible += 1
                    report.note("\(u.row.order.domain): refused: \(u.message)")
                }
            }
            if !missing.isEmpty {
                var unclear = chunk
                unclear.rows = missing
                unclear.tries += 1
                try await settleCancels(unclear, cause: "answer without a verdict", queue: queue)
            }
        case .refused(let reason, let retryAfter):
            try ledger.recordCancels(
                run: chunk.run, provider: id, chunk.rows.map { CancelUpdate(row: $0, state: .wanted, message: "refused, will retry: \(reason)") },
                intent: intent, outcome: "refused", now: wallClock())
            _ = await refused(chunk, reason: reason, retryAfter: retryAfter, sentAt: sentAt, queue: queue)
        case .maybeProcessed(let reason):
            await lane.state.needBusyCheck()
            try ledger.recordCancels(
                run: chunk.run, provider: id,
                chunk.rows.map { CancelUpdate(row: $0, state: .unclear, message: "no usable answer: \(reason)", unanswered: true) },
                intent: intent, outcome: "unclear", now: wallClock())
            var unclear = chunk
            unclear.tries += 1
            try await settleCancels(unclear, cause: reason, queue: queue)
        case .halt(let reason, let fix):
            lane.logger.error("lane halted", metadata: ["reason": "\(reason)", "fix": "\(fix)"])
            try ledger.recordCancels(
                run: chunk.run, provider: id,
                chunk.rows.map { CancelUpdate(row: $0, state: .wanted, message: "not cancelled: \(id.rawValue) lane halted: \(reason). Fix: \(fix), then rerun") },
                intent: intent, outcome: "halt", now: wallClock())
            await lane.state.setHalt(reason: reason, fix: fix)
            await tally.update { $0.incomplete += chunk.rows.count }
        }
    }

    /// Settles unclear cancels by the provider's lookup, `maxLookupBatch` at a time: an order still held is sent
    /// again (within `maxAttempts` for this invocation), one no longer held is `cancelled`; without a lookup they
    /// stay `unclear` with the reason (never resent blindly); a lookup that keeps failing leaves them for a rerun.
    func settleCancels(_ chunk: OrderQueue.Chunk, cause: String, queue: OrderQueue) async throws {
        let size = max(1, provider.maxLookupBatch)
        for start in stride(from: 0, to: chunk.rows.count, by: size) {
            guard await lane.state.halt == nil else { return }
            var part = chunk
            part.rows = Array(chunk.rows[start..<min(start + size, chunk.rows.count)])
            try await settleCancelsByOneLookup(part, cause: cause, queue: queue)
        }
    }

    private func settleCancelsByOneLookup(_ chunk: OrderQueue.Chunk, cause: String, queue: OrderQueue) async throws {
        var attempt = 0
        while true {
            let sentAt = try await lane.gate().sentAt
            await tally.update { $0.lookups += 1 }
            let items = chunk.rows.map { BackorderItem(domain: $0.order.domain) }
            let answer = await Lane.shielded { [provider] in await provider.lookup(items) }
            lane.logger.info("cancel lookup", metadata: ["asked": "\(items.count)", "cause": "\(cause)", "answer": "\(Lane.summary(answer))"])
            if case .unavailable = answer {} else { await lane.pacer.answered() }
            switch answer {
            case .found(let held):
                let gone = chunk.rows.filter { held[$0.order.domain] == nil }
                let still = chunk.rows.filter { held[$0.order.domain] != nil }
                let giveUp = chunk.tries >= settings.maxAttempts
                var updates = gone.map { CancelUpdate(row: $0, state: .cancelled, message: "no longer held at the provider (confirmed by lookup after: \(cause))") }
                updates += still.map {
                    CancelUpdate(row: $0, state: .wanted, message: giveUp
                        ? "still held after \(chunk.tries) unclear cancels; last: \(cause); rerun to try again"
                        : "still held after: \(cause); sending the cancel again")
                }
                try ledger.recordCancels(run: chunk.run, provider: id, updates, now: wallClock())
                await tally.update { $0.answered += gone.count; if giveUp { $0.incomplete += still.count } }
                if !still.isEmpty, !giveUp {
                    var again = chunk
                    again.rows = still
                    again.refusals = 0
                    again.notBefore = 0
                    await queue.requeue(again)
                }
                return
            case .unsupported(let reason):
                try ledger.recordCancels(
                    run: chunk.run, provider: id,
                    chunk.rows.map { CancelUpdate(row: $0, state: .unclear, message: "cancel sent without a clear answer (\(cause)) and \(reason); check at the provider") },
                    now: wallClock())
                await tally.update { report in
                    report.notPossible += chunk.rows.count
                    report.note("\(chunk.rows.count) cancels unclear and \(reason); check at the provider")
                }
                return
            case .unavailable(let reason):
                attempt += 1
                await lane.state.needBusyCheck()
                if attempt >= settings.maxLookupAttempts {
                    try ledger.recordCancels(
                        run: chunk.run, provider: id,
                        chunk.rows.map { CancelUpdate(row: $0, state: .unclear, message: "\(cause); the lookup that would settle it failed (\(reason)); rerun to check again") },
                        now: wallClock())
                    await tally.update { $0.incomplete += chunk.rows.count }
                    return
                }
                try await clock.sleep(seconds: await lane.pacer.refused(reason: "lookup failed: \(reason)", retryAfter: nil, sentAt: sentAt))
            case .halt(let reason, let fix):
                await lane.state.setHalt(reason: reason, fix: fix)
                await tally.update { $0.incomplete += chunk.rows.count }
                return
            }
        }
    }
}

/// Records the slices of a whole-account refresh as the provider hands them over (one transaction each), and
/// keeps, per order, only whether it was answered and whether the answer was `unknown`: what the lane's report
/// counts. A ledger failure stops the recording and is thrown by the lane once the provider returns.
final class FateRecorder: @unchecked Sendable {
    private let ledger: Ledger
    private let run: String
    private let provider: ProviderID
    private let orders: OrderSet
    private let wallClock: @Sendable () -> Date
    private let lock = NSLock()
    /// Per order: 0 not answered, 1 answered, 2 answered `unknown`.
    private var marks: [UInt8]
    private var changed = 0
    private var notes: FollowUpReport
    private var error: (any Error)?

    init(ledger: Ledger, run: String, provider: ProviderID, orders: OrderSet, wallClock: @escaping @Sendable () -> Date) {
        self.ledger = ledger
        self.run = run
        self.provider = provider
        self.orders = orders
        self.wallClock = wallClock
        marks = [UInt8](repeating: 0, count: orders.count)
        notes = FollowUpReport(provider: provider)
    }

    func record(_ slice: [(index: Int, report: FateReport)]) {
        guard !slice.isEmpty else { return }
        lock.withLock {
            guard error == nil else { return }
            do {
                let updates = slice.map { (row: PlacedOrderRow(id: orders.id(at: $0.index), order: orders.order(at: $0.index)), report: $0.report) }
                changed += try ledger.recordFates(run: run, provider: provider, updates, at: wallClock())
                for (index, report) in slice {
                    let unknown = report.fate == .unknown
                    if unknown, marks[index] != 2 { notes.note("\(orders.domain(at: index)): fate unknown: \(report.detail)") }
                    marks[index] = unknown ? 2 : 1
                }
            } catch {
                self.error = error
            }
        }
    }

    var failure: (any Error)? { lock.withLock { error } }

    private func snapshot() -> (answered: Int, unknown: Int, changed: Int, notes: FollowUpReport) {
        lock.withLock {
            var answered = 0, unknown = 0
            for mark in marks where mark != 0 {
                answered += 1
                if mark == 2 { unknown += 1 }
            }
            return (answered, unknown, changed, notes)
        }
    }

    /// Orders no slice answered.
    var unanswered: Int { lock.withLock { marks.lazy.filter { $0 == 0 }.count } }

    /// Adds what was recorded to the lane's report (once, at the end of the run's refresh).
    func addCounts(to tally: FollowUpTally) async {
        let (answered, unknown, changed, notes) = snapshot()
        await tally.update { report in
            report.answered += answered
            report.changed += changed
            report.notPossible += unknown
            for note in notes.notes { report.note(note) }
            report.moreNotes += notes.moreNotes
        }
    }
}
