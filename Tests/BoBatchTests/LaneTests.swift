@testable import BoBatch
@testable import BoBatchSandbox  // Locked
import Foundation
import Testing

@Suite struct LaneTests {
    let run = "test-run"

    func makeLedger(_ domains: [String]) throws -> Ledger {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run)
        try ledger.ingest(run: run, domains.map {
            IngestEntry(domain: DomainName(validatedASCII: $0), input: $0, source: "t:1", attributes: DomainAttributes())
        })
        return ledger
    }

    func states(_ ledger: Ledger, _ provider: ProviderID = .dynadot) throws -> [String: PairState] {
        var out: [String: PairState] = [:]
        for state in PairState.allCases {
            for row in try ledger.pairs(run: run, provider: provider, state: state, afterSeq: 0, limit: 100_000) {
                out[row.item.domain.ascii] = state
            }
        }
        return out
    }

    func lane(_ provider: FakeProvider, _ ledger: Ledger, clock: TestClock = TestClock(), maxAttempts: Int = 5) -> Lane {
        Lane(run: run, provider: provider, ledger: ledger, settings: LaneSettings(pacing: Pacing(concurrency: 1, requestsPerMinute: 600), maxAttempts: maxAttempts), clock: clock, random: { 0.5 })
    }

    static func names(_ n: Int, prefix: String = "d") -> [String] { (0..<n).map { "\(prefix)\($0).com" } }

    @Test func chunksToTheProvidersLimitAndAcceptsAll() async throws {
        let domains = Self.names(250)
        let ledger = try makeLedger(domains)
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let provider = FakeProvider(maxBatch: 100)
        let report = try await lane(provider, ledger).run()
        #expect(provider.submits.map(\.count) == [100, 100, 50])
        #expect(report.creates == 3)
        #expect(try states(ledger).values.allSatisfy { $0 == .accepted })
    }

    @Test func aFailedBatchIsReconciledThenIsolatedSoEachDomainGetsItsOwnVerdict() async throws {
        let domains = Self.names(100)
        let ledger = try makeLedger(domains)
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let provider = FakeProvider(maxBatch: 100)
        provider.bad = ["d13.com", "d57.com", "d58.com"]
        _ = try await lane(provider, ledger).run()
        let result = try states(ledger)
        #expect(result["d13.com"] == .rejected)
        #expect(result["d57.com"] == .rejected)
        #expect(result["d58.com"] == .rejected)
        #expect(result.filter { $0.value == .accepted }.count == 97)
        // Nothing was placed twice: the lookup credited what the failed requests had placed.
        #expect(provider.creates.values.allSatisfy { $0 == 1 })
        #expect(provider.lookups > 0)
        // Isolation by halving takes far fewer requests than one per domain.
        #expect(provider.submits.count < 40)
    }

    @Test func anUnclearAnswerIsSettledByLookupNotByResending() async throws {
        let ledger = try makeLedger(["a.com", "b.com"])
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let provider = FakeProvider(maxBatch: 100)
        provider.script(.maybeProcessed(reason: "timeout after send"))
        provider.place(["a.com", "b.com"])  // the lost request did land
        _ = try await lane(provider, ledger).run()
        #expect(provider.submits.count == 1)
        #expect(try states(ledger) == ["a.com": .accepted, "b.com": .accepted])
        #expect(provider.creates == ["a.com": 1, "b.com": 1])
    }

    @Test func anUnclearAnswerProvenAbsentIsResentOnce() async throws {
        let ledger = try makeLedger(["a.com"])
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let provider = FakeProvider(maxBatch: 100)
        provider.script(.maybeProcessed(reason: "connection reset"))
        _ = try await lane(provider, ledger).run()
        #expect(provider.submits.count == 2)
        #expect(try states(ledger) == ["a.com": .accepted])
    }

    @Test func refusalsBackOffThenGiveUpAsFailed() async throws {
        let ledger = try makeLedger(["a.com"])
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let provider = FakeProvider(maxBatch: 100)
        provider.script(
            .refused(reason: "busy", retryAfterSeconds: nil), .refused(reason: "busy", retryAfterSeconds: 7),
            .refused(reason: "busy", retryAfterSeconds: nil), .refused(reason: "busy", retryAfterSeconds: nil),
            .refused(reason: "busy", retryAfterSeconds: nil), .refused(reason: "busy", retryAfterSeconds: nil))
        let clock = TestClock()
        _ = try await lane(provider, ledger, clock: clock, maxAttempts: 3).run()
        // Refusals cost nothing at the provider: twice the attempt budget, in a row.
        #expect(provider.submits.count == 6)
        #expect(try states(ledger) == ["a.com": .failed])
        let row = try #require(try ledger.pairs(run: run, provider: .dynadot, state: .failed, afterSeq: 0, limit: 1).first)
        #expect(row.unanswered == 0)
        // Full jitter with random 0.5: 0.5 × 1 s; then Retry-After honoured as given.
        #expect(clock.sleeps.contains(0.5))
        #expect(clock.sleeps.contains(7))
    }

    @Test func aHaltStopsTheLaneAndLeavesTheRestResumable() async throws {
        let ledger = try makeLedger(Self.names(5))
        try ledger.preparePairs(run: run, providers: [.gname], rememberSince: .distantPast)
        let provider = FakeProvider(id: .gname, maxBatch: 1)
        provider.script(.settled([DomainName(validatedASCII: "d0.com"): .accepted(reference: nil, message: "ok")]), .halt(reason: "invalid key", fix: "check the key"))
        let report = try await lane(provider, ledger).run()
        #expect(report.halt?.reason == "invalid key")
        #expect(provider.submits.count == 2)
        let result = try states(ledger, .gname)
        #expect(result["d0.com"] == .accepted)
        #expect(result.filter { $0.value == .failed }.count == 4)
        // A rerun tries the failed ones again.
        let recovered = try ledger.recoverLane(run: run, provider: .gname)
        #expect(recovered.retried == 4)
    }

    /// Waits (yielding, never sleeping) until `condition` holds, for at most 10 s of the real clock.
    static func eventually(_ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            await Task.yield()
        }
        return try condition()
    }

    /// Issue 9: between two requests of a lane only the pacer stands. While request 2 is on the wire the answer
    /// of request 1 is recorded and the intent of request 3 committed; the ledger shows both before request 2
    /// is answered.
    @Test func whileARequestIsOnTheWireTheLastAnswerIsRecordedAndTheNextIntentCommitted() async throws {
        let ledger = try makeLedger(Self.names(6))
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let provider = FakeProvider(maxBatch: 2)
        let seen = Locked<[String: PairState]>([:])
        let states: @Sendable () throws -> [String: PairState] = { [self] in try self.states(ledger) }
        provider.beforeSubmit = { index, _ in
            guard index == 1 else { return }
            _ = try? await Self.eventually { try states()["d4.com"] == .sending && states()["d0.com"] == .accepted }
            seen.withLock { $0 = (try? states()) ?? [:] }
        }
        let report = try await lane(provider, ledger).run()
        let during = seen.withLock { $0 }
        #expect(during["d0.com"] == .accepted && during["d1.com"] == .accepted, "request 1's answer: \(during)")
        #expect(during["d2.com"] == .sending && during["d3.com"] == .sending)
        #expect(during["d4.com"] == .sending && during["d5.com"] == .sending, "request 3's intent: \(during)")
        #expect(report.creates == 3)
        #expect(try self.states(ledger).values.allSatisfy { $0 == .accepted })
        // Three requests, three intents, each started when its request left (not when it was committed).
        let intents = try ledger.reportIntents(run: run)
        #expect(intents.count == 3 && intents.allSatisfy { $0.outcome == .settled })
        if intents.count == 3, let settled = intents[1].settledAt {
            // Request 3's intent was committed while request 2 was on the wire; the report times it from its send.
            #expect(intents[2].createdAt >= settled, "request 3 timed from its commit: \(intents)")
        }
    }

    /// Eight workers, one domain a request: the intents committed ahead wait for each other and are committed
    /// several at a time, with the answers held, yet every request leaves only after its own intent is in the ledger,
    /// and in the end every answer is recorded and every intent settled, each domain sent once.
    @Test func withIntentsCommittedTogetherEverySendStillFindsItsOwnIntentCommitted() async throws {
        let names = Self.names(60)
        let ledger = try makeLedger(names)
        try ledger.preparePairs(run: run, providers: [.gname], rememberSince: .distantPast)
        let provider = FakeProvider(id: .gname, maxBatch: 1)
        let unsent = Locked<[String]>([])
        let states: @Sendable () throws -> [String: PairState] = { [self] in try self.states(ledger, .gname) }
        provider.beforeSubmit = { _, domains in
            let now = (try? states()) ?? [:]
            for domain in domains where now[domain] != .sending { unsent.withLock { $0.append("\(domain): \(String(describing: now[domain]))") } }
            await Task.yield()
        }
        let lane = Lane(
            run: run, provider: provider, ledger: ledger,
            settings: LaneSettings(pacing: Pacing(concurrency: 8, requestsPerMinute: 6_000_000), maxAttempts: 5), clock: TestClock(), random: { 0.5 })
        #expect(lane.committer.groupSize == 4)
        let report = try await lane.run()
        #expect(unsent.withLock { $0 }.isEmpty, "sent before its intent was committed: \(unsent.withLock { $0 })")
        #expect(report.creates == 60)
        #expect(provider.creates.count == 60 && provider.creates.values.allSatisfy { $0 == 1 })
        #expect(try self.states(ledger, .gname).values.allSatisfy { $0 == .accepted })
        let intents = try ledger.reportIntents(run: run)
        #expect(intents.count == 60 && intents.allSatisfy { $0.outcome == .settled })
    }

    /// A provider that cannot be asked what it holds (DNSPod) gets neither: a kill between the answer and its
    /// commit, or after an intent committed ahead, would leave a send nobody can settle.
    @Test func withoutALookupEveryAnswerIsRecordedAndNoIntentCommittedAhead() async throws {
        let ledger = try makeLedger(Self.names(3))
        try ledger.preparePairs(run: run, providers: [.dnspod], rememberSince: .distantPast)
        let provider = FakeProvider(id: .dnspod, maxBatch: 1)
        provider.supportsLookup = false
        let seen = Locked<[String: PairState]>([:])
        let states: @Sendable () throws -> [String: PairState] = { [self] in try self.states(ledger, .dnspod) }
        provider.beforeSubmit = { index, _ in
            guard index == 1 else { return }
            seen.withLock { $0 = (try? states()) ?? [:] }
        }
        _ = try await lane(provider, ledger).run()
        let during = seen.withLock { $0 }
        #expect(during["d0.com"] == .accepted && during["d1.com"] == .sending, "\(during)")
        #expect(during["d2.com"] == .pending, "an intent was committed ahead: \(during)")
    }

    /// A halt answered while the next chunk's intent is already committed: that chunk was never sent, so its
    /// intent is withdrawn (no request counted, the attempt given back) and it is halted like the rest.
    @Test func aHaltWithdrawsTheIntentCommittedAhead() async throws {
        let ledger = try makeLedger(Self.names(4))
        try ledger.preparePairs(run: run, providers: [.gname], rememberSince: .distantPast)
        let provider = FakeProvider(id: .gname, maxBatch: 1)
        let committedAhead = Locked(false)
        let states: @Sendable () throws -> [String: PairState] = { [self] in try self.states(ledger, .gname) }
        provider.beforeSubmit = { index, _ in
            guard index == 1 else { return }
            let ahead = (try? await Self.eventually { try states()["d2.com"] == .sending }) ?? false
            committedAhead.withLock { $0 = ahead }
        }
        provider.script(.settled([DomainName(validatedASCII: "d0.com"): .accepted(reference: nil, message: "ok")]), .halt(reason: "invalid key", fix: "check the key"))
        let report = try await lane(provider, ledger).run()
        #expect(committedAhead.withLock { $0 }, "d2's intent was not committed while d1 was on the wire")
        #expect(report.creates == 2 && provider.submits.count == 2)
        #expect(try ledger.reportIntents(run: run).count == 2, "the withdrawn intent is still there")
        let failed = try ledger.pairs(run: run, provider: .gname, state: .failed, afterSeq: 0, limit: 10)
        #expect(failed.map(\.item.domain.ascii) == ["d1.com", "d2.com", "d3.com"])
        #expect(failed.map(\.attempts) == [1, 0, 0], "a withdrawn send still counts as an attempt")
        #expect(try states()["d0.com"] == .accepted)
        #expect(try ledger.recoverLane(run: run, provider: .gname).retried == 3)
    }

    @Test func aCrashMidSendIsReconciledBeforeAnythingIsResent() async throws {
        let ledger = try makeLedger(["a.com", "b.com", "c.com"])
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        // The intent was committed and the request landed for a and b, then the process died.
        _ = try ledger.beginSend(run: run, provider: .dynadot, domains: ["a.com", "b.com", "c.com"].map(DomainName.init(validatedASCII:)))
        let provider = FakeProvider(maxBatch: 100)
        provider.place(["a.com", "b.com"])
        let report = try await lane(provider, ledger).run()
        // All three were looked up together before anything was sent again.
        #expect(report.lookups == 1)
        #expect(provider.lookupSizes == [3])
        #expect(provider.submits == [["c.com"]])
        #expect(try states(ledger) == ["a.com": .accepted, "b.com": .accepted, "c.com": .accepted])
        #expect(provider.creates.values.allSatisfy { $0 == 1 })
    }

    @Test func withoutALookupAnUnclearSendIsRepeatedAtMostOnce() async throws {
        let ledger = try makeLedger(["a.com"])
        try ledger.preparePairs(run: run, providers: [.dnspod], rememberSince: .distantPast)
        let provider = FakeProvider(id: .dnspod, maxBatch: 1)
        provider.supportsLookup = false
        provider.script(.maybeProcessed(reason: "timeout"), .maybeProcessed(reason: "timeout"))
        _ = try await lane(provider, ledger).run()
        #expect(provider.submits.count == 2)
        #expect(try states(ledger, .dnspod) == ["a.com": .unknown])
    }

    @Test func refusedSendsDoNotUseUpDNSPodsSingleBlindResend() async throws {
        let ledger = try makeLedger(["a.com"])
        try ledger.preparePairs(run: run, providers: [.dnspod], rememberSince: .distantPast)
        let provider = FakeProvider(id: .dnspod, maxBatch: 1)
        provider.supportsLookup = false
        // Refused twice (nothing done), then one unclear answer: the one blind resend is still there.
        provider.script(
            .refused(reason: "DNSPod says the API is used too frequently", retryAfterSeconds: nil),
            .refused(reason: "HTTP 503", retryAfterSeconds: 1),
            .maybeProcessed(reason: "timeout"))
        _ = try await lane(provider, ledger).run()
        #expect(provider.submits.count == 4)
        #expect(try states(ledger, .dnspod) == ["a.com": .accepted])
        let row = try #require(try ledger.pairs(run: run, provider: .dnspod, state: .accepted, afterSeq: 0, limit: 1).first)
        #expect(row.attempts == 4)
        #expect(row.unanswered == 1)
    }

    @Test func anAnswerBetweenRefusalsStartsTheirCountAgain() async throws {
        let ledger = try makeLedger(["a.com"])
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let provider = FakeProvider(maxBatch: 100)
        let refused = SubmitResult.refused(reason: "busy", retryAfterSeconds: nil)
        // Five refusals, an answer that settles nothing (proven absent by lookup), five more: never six in a row.
        provider.script(refused, refused, refused, refused, refused, .maybeProcessed(reason: "timeout"), refused, refused, refused, refused, refused)
        _ = try await lane(provider, ledger, maxAttempts: 3).run()
        #expect(provider.submits.count == 12)
        #expect(try states(ledger) == ["a.com": .accepted])
    }

    @Test func aRefusedRequestWaitsAloneWhileTheRestOfTheLaneGoesOn() async throws {
        let ledger = try makeLedger(Self.names(3))
        try ledger.preparePairs(run: run, providers: [.gname], rememberSince: .distantPast)
        let provider = FakeProvider(id: .gname, maxBatch: 1)
        provider.script(.refused(reason: "HTTP 503", retryAfterSeconds: 30))
        let clock = TestClock()
        let report = try await lane(provider, ledger, clock: clock).run()
        // d0 is resent only after its Retry-After; d1 and d2 did not wait for it.
        #expect(provider.submits == [["d0.com"], ["d1.com"], ["d2.com"], ["d0.com"]])
        #expect(report.lookups == 0)
        #expect(clock.sleeps.filter { $0 > 1 }.reduce(0, +) < 30)
        #expect(try self.states(ledger, .gname).values.allSatisfy { $0 == .accepted })
    }

    @Test func aBusyAccountMakesABatchErrorARetryNotAVerdict() async throws {
        let ledger = try makeLedger(["a.com"])
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        let provider = FakeProvider(maxBatch: 100)
        provider.script(.batchFailed(reason: "weird error", verdictIfAlone: .rejected(message: "weird error")))
        provider.scriptBusy(.busy, .busy, .idle)
        _ = try await lane(provider, ledger).run()
        #expect(try states(ledger) == ["a.com": .accepted])
        #expect(provider.submits.count == 2)
    }

    @Test func anEarlierRunsPlacementIsRememberedAndNotSentAgain() async throws {
        let ledger = try makeLedger(["a.com", "b.com"])
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        _ = try await lane(FakeProvider(), ledger).run()
        try ledger.openRun("next-day")
        try ledger.ingest(run: "next-day", [IngestEntry(domain: DomainName(validatedASCII: "a.com"), input: "a.com", source: "t:1", attributes: DomainAttributes()),
                                             IngestEntry(domain: DomainName(validatedASCII: "c.com"), input: "c.com", source: "t:2", attributes: DomainAttributes())])
        try ledger.preparePairs(run: "next-day", providers: [.dynadot], rememberSince: Date().addingTimeInterval(-86_400))
        let counts = try ledger.stateCounts(run: "next-day")[.dynadot]!
        #expect(counts[.already] == 1)
        #expect(counts[.pending] == 1)
    }

    @Test func lookupsThatCostARequestPerDomainAreAskedOneAtATime() async throws {
        let domains = Self.names(5)
        let ledger = try makeLedger(domains)
        try ledger.preparePairs(run: run, providers: [.gname], rememberSince: .distantPast)
        _ = try ledger.beginSend(run: run, provider: .gname, domains: domains.map(DomainName.init(validatedASCII:)))
        let provider = FakeProvider(id: .gname, maxBatch: 1)
        provider.maxLookupBatch = 1
        provider.place(["d1.com", "d3.com"])
        _ = try await lane(provider, ledger).run()
        #expect(provider.lookupSizes == [1, 1, 1, 1, 1])
        #expect(provider.submits == [["d0.com"], ["d2.com"], ["d4.com"]])
        #expect(try self.states(ledger, .gname).values.allSatisfy { $0 == .accepted })
    }

    @Test func secretsCanComeFromPrivateFilesOnly() throws {
        let dir = TestPaths.temporaryDirectory()
        let path = "\(dir)/key"
        FileManager.default.createFile(atPath: path, contents: Data("k3y-from-file\nsecond line\n".utf8), attributes: [.posixPermissions: 0o600])
        let reader = EnvironmentReader(["DYNADOT_API_KEY_FILE": path])
        #expect(try reader.secret("DYNADOT_API_KEY") == "k3y-from-file")
        chmod(path, 0o644)
        #expect(throws: ConfigurationError("DYNADOT_API_KEY_FILE=\(path) is readable by others; run: chmod 600 \(path)")) {
            try reader.secret("DYNADOT_API_KEY")
        }
    }

    @Test func backoffIsFullJitterUnderACap() {
        let b = Backoff(base: 1, cap: 60)
        #expect(b.delay(attempt: 1, retryAfter: nil, random: 0.999) < 1)
        #expect(b.delay(attempt: 4, retryAfter: nil, random: 0.5) == 4)
        #expect(b.delay(attempt: 30, retryAfter: nil, random: 1) == 60)
        #expect(b.delay(attempt: 3, retryAfter: 12, random: 0) == 12)
        #expect(b.delay(attempt: 1, retryAfter: nil, random: 0) == 0)
    }
}
