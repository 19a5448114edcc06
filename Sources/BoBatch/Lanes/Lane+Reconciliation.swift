import Foundation

/// Settling what an unclear answer or an interrupted invocation left open: look it up at the provider, credit
/// what it holds, resend only what it proves absent (within the attempt budget), and leave the rest `unknown`
/// with the reason.
extension Lane {
    /// Pairs left `unknown` by an earlier invocation (killed mid-send, or a lookup that did not answer)
    /// are settled by lookup before any new create goes out.
    func reconcileInterrupted() async throws {
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

    func workRequeued(_ queue: WorkQueue) async throws {
        while !Task.isCancelled, await state.halt == nil {
            switch await queue.nextRequeued() {
            case .done: return
            case .wait(let seconds): try await clock.sleep(seconds: seconds)
            case .chunk(let chunk):
                // One at a time: nothing is made ready ahead here, where only put-back work is sent.
                var (answer, _) = try await send(ReadyChunk(chunk: chunk), queue: queue)
                try await record(&answer)
            }
        }
    }

    /// Looks the chunk up: what the provider holds is accepted; what it proves absent is resent (within the
    /// attempt budget); what it cannot tell stays `unknown` with the reason.
    func reconcile(_ pairs: [PairRow], cause: String, queue: WorkQueue) async throws {
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
    func settleByLookup(_ pairs: [PairRow], cause: String) async throws -> [PairRow]? {
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

    func settleByOneLookup(_ pairs: [PairRow], cause: String) async throws -> [PairRow]? {
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
}
