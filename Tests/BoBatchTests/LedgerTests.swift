@testable import BoBatch
import Foundation
import Testing

/// The ledger on its own: schema and migrations, ingestion, recovery after a crash, memory across runs, the
/// counts the exit status is made of, and the queries the result files are projected from.
@Suite struct LedgerTests {
    let run = "ledger-test"
    /// Whole seconds, so dates survive the round trip through REAL columns exactly.
    let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }

    func entry(_ name: String, input: String? = nil, source: String = "list.txt:1", drop: Date? = nil, email: String? = nil) -> IngestEntry {
        IngestEntry(domain: domain(name), input: input ?? name, source: source, attributes: DomainAttributes(dropTime: drop, email: email))
    }

    /// A ledger with `names` ingested into `run` and pairs prepared for `providers`.
    func makeLedger(_ names: [String], providers: [ProviderID] = [.dynadot], directory: String = TestPaths.temporaryDirectory()) throws -> Ledger {
        let ledger = try Ledger(directory: directory)
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, names.map { entry($0) })
        try ledger.preparePairs(run: run, providers: providers, rememberSince: .distantPast, now: t0)
        return ledger
    }

    func names(_ rows: [PairRow]) -> [String] { rows.map(\.item.domain.ascii) }

    func all(_ ledger: Ledger, _ state: PairState, provider: ProviderID = .dynadot, run: String? = nil) throws -> [PairRow] {
        try ledger.pairs(run: run ?? self.run, provider: provider, state: state, afterSeq: 0, limit: 100_000)
    }

    /// Every domain's projected pair for `provider`, by domain.
    func projected(_ ledger: Ledger, provider: ProviderID = .dynadot, run: String? = nil) throws -> [String: PairResultRow] {
        var out: [String: PairResultRow] = [:]
        for result in try ledger.dueResults(run: run ?? self.run, afterDomain: "", limit: 100_000) {
            out[result.domain] = result.pairs.first { $0.provider == provider.rawValue }
        }
        return out
    }

    // MARK: migrations

    @Test func aFreshLedgerGetsEveryMigrationAndReopeningChangesNothing() throws {
        let directory = TestPaths.temporaryDirectory()
        let ledger = try Ledger(directory: directory)
        let every = Ledger.migrator.migrations
        #expect(every.count == 12)
        #expect(try ledger.appliedMigrations() == every)
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, [entry("a.com")])

        // Opened again while the first is open, and once more after: the same schema, the same rows.
        let second = try Ledger(directory: directory)
        #expect(try second.appliedMigrations() == every)
        #expect(try second.runExists(run))
        #expect(try second.domainCount(run: run) == 1)
        let third = try Ledger(directory: directory)
        #expect(try third.appliedMigrations() == every)
        #expect(try third.domainCount(run: run) == 1)
        #expect(third.path == (directory as NSString).appendingPathComponent("ledger.sqlite"))
    }

    @Test func aLedgerFromBeforeV3GetsTheUnansweredColumnAtZeroForItsOldRows() throws {
        let directory = TestPaths.temporaryDirectory()
        do {
            // As a version without migration v3 left it (in its own schema): one pair mid-send, one never sent.
            let old = try Ledger(directory: directory, migratingUpTo: "v2: input order index")
            #expect(try old.appliedMigrations() == Array(Ledger.migrator.migrations.prefix(2)))
            try old.executeAsOlderVersion("""
                INSERT INTO domains(run, domain, seq, input, source) VALUES
                    ('\(run)', 'a.com', 1, 'a.com', 'l:1'), ('\(run)', 'b.com', 2, 'b.com', 'l:2'), ('\(run)', 'c.com', 3, 'c.com', 'l:3');
                INSERT INTO pairs(run, provider, domain, seq, state, attempts, intent, updated_at) VALUES
                    ('\(run)', 'dnspod', 'a.com', 1, 'sending', 1, 1, 1760000000), ('\(run)', 'dnspod', 'b.com', 2, 'pending', 0, NULL, 1760000000),
                    ('\(run)', 'dnspod', 'c.com', 3, 'sending', 1, 1, 1760000000);
                INSERT INTO intents(run, provider, domains, created_at) VALUES ('\(run)', 'dnspod', 'a.com,c.com', 1760000000);
                """)
        }
        let ledger = try Ledger(directory: directory)
        #expect(try ledger.appliedMigrations() == Ledger.migrator.migrations)
        let sending = try all(ledger, .sending, provider: .dnspod)
        #expect(names(sending) == ["a.com", "c.com"])
        #expect(sending.allSatisfy { $0.unanswered == 0 && $0.attempts == 1 })
        #expect(try all(ledger, .pending, provider: .dnspod).map(\.unanswered) == [0])

        // The new column works on the old rows: an answer that may not have landed counts, recovery counts.
        try ledger.record(
            run: run, provider: .dnspod, [PairUpdate(domain: domain("c.com"), state: .unknown, code: .unclear, message: "timeout", unanswered: true)],
            intent: 1, intentOutcome: .unclear, now: t0)
        _ = try ledger.recoverLane(run: run, provider: .dnspod, now: t0)
        #expect(try all(ledger, .unknown, provider: .dnspod).map(\.unanswered) == [1, 1])
    }

    /// Everything a reader of the ledger sees, for comparing a ledger before and after a migration.
    func everythingReadable(_ ledger: Ledger, runs: [String]) throws -> String {
        var out: [String] = []
        for info in try ledger.runs() { out.append("run \(info.name) \(info.updated) \(info.invocations) \(info.domains)") }
        for run in runs {
            out.append("\(run): exists \(try ledger.runExists(run)) domains \(try ledger.domainCount(run: run)) invalid \(try ledger.invalidCount(run: run))")
            out.append("resumable \(try ledger.resumableCount(run: run)) last \(String(describing: try ledger.lastInvocation(run: run)))")
            let counts = try ledger.stateCounts(run: run)
            for provider in ProviderID.allCases {
                out.append("counts \(provider) \((counts[provider] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" })")
                for state in PairState.allCases {
                    for p in try ledger.pairs(run: run, provider: provider, state: state, afterSeq: 0, limit: 1000) {
                        out.append("pair \(provider) \(p.item.domain.ascii) seq \(p.seq) \(p.state) \(p.attempts) \(p.unanswered) \(p.item.attributes)")
                    }
                }
            }
            for r in try ledger.dueResults(run: run, afterDomain: "", limit: 1000) { out.append("due \(r)") }
            for r in try ledger.invalidRows(run: run) { out.append("invalid \(r)") }
        }
        return out.joined(separator: "\n")
    }

    @Test func aV4LedgerIsCarriedOverToV5WithItsData() throws {
        let directory = TestPaths.temporaryDirectory()
        let drop = t0.addingTimeInterval(86_400)
        do {
            // As version 4 left it, in its own schema: two runs, one with pairs in several states at two providers,
            // a file already written and one written before its last change, an invalid line, exit facts, an open
            // intent; the other run remembered a placement. Seqs with gaps, as batches of duplicates left them.
            let old = try Ledger(directory: directory, migratingUpTo: "v4: the last invocation's exit facts")
            #expect(try old.appliedMigrations() == Array(Ledger.migrator.migrations.prefix(4)))
            let facts = String(decoding: try JSONEncoder().encode(InvocationFacts(dryRun: false, haltedLanes: [.gname])), as: UTF8.self)
            try old.executeAsOlderVersion("""
                INSERT INTO runs(name, created_at, updated_at, invocations, last_invocation) VALUES
                    ('\(run)', 1760000000, 1760000060, 2, '\(facts)'), ('later', 1760086400, 1760086400, 1, NULL);
                INSERT INTO domains(run, domain, seq, input, source, drop_time, email, version, written) VALUES
                    ('\(run)', 'b.com', 1, 'B.com', 'l:1', \(drop.timeIntervalSince1970), 'o@example.com', 3, 3),
                    ('\(run)', 'a.com', 2, 'a.com', 'l:2', NULL, NULL, 2, 1),
                    ('\(run)', 'c.com', 5, 'c.com.', 'l:5', NULL, NULL, 1, 0),
                    ('later', 'a.com', 1, 'a.com', 'm:1', NULL, NULL, 2, 0),
                    ('later', 'd.com', 2, 'd.com', 'm:2', NULL, NULL, 1, 0);
                INSERT INTO pairs(run, provider, domain, seq, state, attempts, code, message, reference, intent, updated_at, unanswered) VALUES
                    ('\(run)', 'dynadot', 'b.com', 1, 'accepted', 1, 'ok', 'placed', 'R-b', 1, 1760000030, 0),
                    ('\(run)', 'dynadot', 'a.com', 2, 'sending', 2, NULL, '', NULL, 2, 1760000040, 1),
                    ('\(run)', 'dynadot', 'c.com', 5, 'pending', 0, NULL, '', NULL, NULL, 1760000000, 0),
                    ('\(run)', 'gname', 'b.com', 1, 'unknown', 1, 'no-lookup', 'sent twice', NULL, 3, 1760000050, 2),
                    ('\(run)', 'gname', 'a.com', 2, 'failed', 0, 'halted', 'not sent', NULL, NULL, 1760000050, 0),
                    ('\(run)', 'gname', 'c.com', 5, 'pending', 0, NULL, '', NULL, NULL, 1760000000, 0),
                    ('later', 'dynadot', 'a.com', 1, 'already', 0, NULL, 'placed in run ''\(run)'' on 2025-10-09; not sent again', 'R-a', NULL, 1760086400, 0),
                    ('later', 'dynadot', 'd.com', 2, 'pending', 0, NULL, '', NULL, NULL, 1760086400, 0);
                INSERT INTO intents(run, provider, domains, created_at, settled_at, outcome) VALUES
                    ('\(run)', 'dynadot', 'b.com', 1760000020, 1760000030, 'settled'), ('\(run)', 'dynadot', 'a.com', 1760000040, NULL, NULL),
                    ('\(run)', 'gname', 'b.com', 1760000045, 1760000050, 'unclear');
                INSERT INTO invalid(run, file, line, text, reason) VALUES ('\(run)', 'l', 3, 'x y', 'space in a name');
                INSERT INTO seen(run, domain) VALUES ('\(run)', 'a.com');
                """)
        }
        let ledger = try Ledger(directory: directory)
        #expect(try ledger.appliedMigrations() == Ledger.migrator.migrations)
        // What version 4's queries answered on those rows, written out by hand.
        #expect(try ledger.runs().map(\.name) == ["later", run])
        #expect(try ledger.runs().map(\.domains) == [2, 3])
        #expect(try ledger.lastInvocation(run: run)?.haltedLanes == [.gname])
        #expect(try ledger.stateCounts(run: run) == [.dynadot: [.accepted: 1, .sending: 1, .pending: 1], .gname: [.unknown: 1, .failed: 1, .pending: 1]])
        #expect(try ledger.stateCounts(run: "later") == [.dynadot: [.already: 1, .pending: 1]])
        #expect(try ledger.resumableCount(run: run) == 4)
        #expect(try ledger.invalidRows(run: run) == [InvalidRow(file: "l", line: 3, text: "x y", reason: "space in a name")])
        #expect(names(try all(ledger, .pending)) == ["c.com"])
        #expect(try all(ledger, .pending).map(\.seq) == [5])
        #expect(try all(ledger, .sending).map { [$0.seq, $0.attempts, $0.unanswered] } == [[2, 2, 1]])
        #expect(try all(ledger, .accepted).first?.item.attributes == DomainAttributes(dropTime: drop, email: "o@example.com"))
        let due = try ledger.dueResults(run: run, afterDomain: "", limit: 10)
        #expect(due.map(\.domain) == ["a.com", "c.com"], "b.com was written at its last version")
        #expect(due[0].pairs.map(\.provider) == ["dynadot", "gname"])
        #expect(due[0].pairs.map(\.state) == [.sending, .failed])
        #expect(due[1].input == "c.com." && due[1].version == 1)
        #expect(try projected(ledger, run: "later")["a.com"]?.reference == "R-a")

        // The carried-over ledger works on: recovery, a send, the next run's memory, and a rerun of the input.
        #expect(try ledger.recoverLane(run: run, provider: .dynadot, now: t0) == (1, 0))
        #expect(try ledger.recoverLane(run: run, provider: .gname, now: t0) == (0, 1))
        #expect(names(try all(ledger, .pending, provider: .gname)) == ["a.com", "c.com"])
        let intent = try ledger.beginSend(run: run, provider: .gname, domains: [domain("a.com"), domain("c.com")], now: t0)
        #expect(intent == 4, "intent ids go on")
        #expect(try all(ledger, .sending, provider: .gname).map(\.attempts) == [1, 1])
        try ledger.openRun("third", now: t0)
        try ledger.ingest(run: "third", [entry("b.com"), entry("e.com")])
        try ledger.preparePairs(run: "third", providers: [.dynadot], rememberSince: .distantPast, now: t0)
        #expect(names(try all(ledger, .already, run: "third")) == ["b.com"])
        #expect(try projected(ledger, run: "third")["b.com"]?.message == "placed in run '\(run)' on 2025-10-09; not sent again")
        try ledger.beginIngest(run: run)
        #expect(try ledger.ingest(run: run, [entry("c.com"), entry("f.com"), entry("a.com")]) == 1)
        #expect(try ledger.distinctSeen(run: run) == 3)
        #expect(try ledger.domainCount(run: run) == 4)

        // And a second open changes nothing.
        let again = try Ledger(directory: directory)
        #expect(try again.appliedMigrations() == Ledger.migrator.migrations)
        #expect(try everythingReadable(again, runs: ["later"]) == (try everythingReadable(ledger, runs: ["later"])))
    }

    // MARK: runs and ingestion

    @Test func openingARunAgainCountsTheInvocationAndRunsAreListedMostRecentFirst() throws {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        #expect(try !ledger.runExists(run))
        try ledger.openRun(run, now: t0)
        try ledger.openRun("later", now: t0.addingTimeInterval(60))
        try ledger.openRun(run, now: t0.addingTimeInterval(120))
        try ledger.ingest(run: run, [entry("a.com"), entry("b.com")])
        let runs = try ledger.runs()
        #expect(runs.map(\.name) == [run, "later"])
        #expect(runs.map(\.invocations) == [2, 1])
        #expect(runs.map(\.domains) == [2, 0])
        #expect(runs[0].updated == t0.addingTimeInterval(120))
        #expect(try ledger.runExists("later"))
    }

    @Test func ingestKeepsTheFirstOccurrenceInInputOrderAndCountsWhatWasNew() throws {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        try ledger.beginIngest(run: run)
        #expect(try ledger.ingest(run: run, []) == 0)
        let drop = t0.addingTimeInterval(86_400)
        let first = try ledger.ingest(run: run, [
            entry("b.com", input: "B.com", source: "one.txt:1", drop: drop, email: "owner@example.com"),
            entry("a.com", source: "one.txt:2"),
            entry("b.com", input: "b.com.", source: "one.txt:3"),
            entry("c.com", source: "one.txt:4"),
        ])
        #expect(first == 3)
        // A later batch (another file of the same invocation) that repeats a domain.
        #expect(try ledger.ingest(run: run, [entry("a.com", source: "two.txt:1"), entry("d.com", source: "two.txt:2")]) == 1)
        #expect(try ledger.domainCount(run: run) == 4)
        #expect(try ledger.distinctSeen(run: run) == 4)

        try ledger.preparePairs(run: run, providers: [.dynadot, .oneapi], rememberSince: .distantPast, now: t0)
        for provider in [ProviderID.dynadot, .oneapi] {
            let pending = try all(ledger, .pending, provider: provider)
            #expect(names(pending) == ["b.com", "a.com", "c.com", "d.com"], "input order")
            #expect(pending[0].item.attributes == DomainAttributes(dropTime: drop, email: "owner@example.com"))
            #expect(pending.allSatisfy { $0.attempts == 0 && $0.unanswered == 0 })
        }
        let results = try ledger.dueResults(run: run, afterDomain: "", limit: 10)
        let b = try #require(results.first { $0.domain == "b.com" })
        #expect(b.input == "B.com" && b.source == "one.txt:1" && b.dropTime == drop && b.email == "owner@example.com")
        #expect(try #require(results.first { $0.domain == "a.com" }).source == "one.txt:2")

        // The next invocation counts its own distinct domains; the run keeps every domain.
        try ledger.beginIngest(run: run)
        #expect(try ledger.distinctSeen(run: run) == 0)
        #expect(try ledger.ingest(run: run, [entry("a.com"), entry("e.com")]) == 1)
        #expect(try ledger.distinctSeen(run: run) == 2)
        #expect(names(try all(ledger, .pending)) == ["b.com", "a.com", "c.com", "d.com"], "pairs are made by preparePairs only")
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast, now: t0)
        #expect(names(try all(ledger, .pending)) == ["b.com", "a.com", "c.com", "d.com", "e.com"])
    }

    @Test func aWholeInputIsOneIngestThatKeepsFirstOccurrencesAndCountsAgainOnARerun() throws {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        // 300 lines: 200 names, then runs of repeats (a block of 60 in a row, and scattered ones), one invalid line.
        let distinct = (0..<200).map { "n\($0).com" }
        var lines = distinct
        lines.insert(contentsOf: distinct[10..<70], at: 120)
        for i in stride(from: 0, to: 40, by: 1) { lines.insert(distinct[199 - i], at: 2 * i + 1) }
        let tally = try ledger.ingestInput(run: run) { sink in
            for (i, name) in lines.enumerated() { try sink.add(entry(name, source: "l:\(i + 1)")) }
            try sink.invalid(file: "l", line: 999, text: "x y", reason: "space in a name")
        }
        #expect(lines.count == 300)
        #expect(tally == IngestTally(new: 200, distinct: 200))
        #expect(try ledger.domainCount(run: run) == 200)
        #expect(try ledger.invalidCount(run: run) == 1)
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast, now: t0)
        var firstSeen: [String] = []
        for name in lines where !firstSeen.contains(name) { firstSeen.append(name) }
        let pending = try all(ledger, .pending)
        #expect(names(pending) == firstSeen, "input order, first occurrence wins")
        let sources = Dictionary(uniqueKeysWithValues: try ledger.dueResults(run: run, afterDomain: "", limit: 1000).map { ($0.domain, $0.source) })
        #expect(sources["n199.com"] == "l:2", "the first line that had it")

        // The same input again, and one more name: nothing else is new, every name counts once.
        let again = try ledger.ingestInput(run: run) { sink in
            for name in lines + ["new.com"] { try sink.add(entry(name)) }
        }
        #expect(again == IngestTally(new: 1, distinct: 201))
        #expect(try ledger.domainCount(run: run) == 201)
        #expect(names(try all(ledger, .pending)) == firstSeen, "not prepared yet")
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast, now: t0)
        #expect(names(try all(ledger, .pending)) == firstSeen + ["new.com"])
        #expect(try all(ledger, .pending).map(\.seq) == (try all(ledger, .pending).map(\.seq)).sorted())

        // An ingest that ends by throwing leaves nothing behind.
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            _ = try ledger.ingestInput(run: run) { sink in
                try sink.add(entry("lost.com"))
                throw Stop()
            }
        }
        #expect(try ledger.domainCount(run: run) == 201)
    }

    @Test func linesAddedByFileAndLineKeepTheirSourceAndAttributes() throws {
        // The sink binds the file once per file and the run once: every row must still get its own values, and a
        // value bound for one line (a drop date, an email) must not leak into the next.
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        let drop = t0.addingTimeInterval(86_400)
        let tally = try ledger.ingestInput(run: run) { sink in
            try sink.add(domain: domain("a.com"), input: "A.com.", file: "one.txt", line: 3, attributes: DomainAttributes(dropTime: drop, email: "x@example.com"))
            try sink.add(domain: domain("b.com"), input: "b.com", file: "one.txt", line: 4, attributes: DomainAttributes())
            try sink.add(domain: domain("a.com"), input: "a.com", file: "two.csv", line: 1, attributes: DomainAttributes())
            try sink.add(domain: domain("c.com"), input: "c.com", file: "two.csv", line: 2, attributes: DomainAttributes(email: ""))
            try sink.add(entry("d.com", source: "given:7"))
            try sink.add(domain: domain("e.com"), input: "e.com", file: "one.txt", line: 12, attributes: DomainAttributes())
        }
        #expect(tally == IngestTally(new: 5, distinct: 5))
        let results = Dictionary(uniqueKeysWithValues: try ledger.dueResults(run: run, afterDomain: "", limit: 10).map { ($0.domain, $0) })
        let a = try #require(results["a.com"])
        #expect(a.input == "A.com." && a.source == "one.txt:3" && a.dropTime == drop && a.email == "x@example.com")
        let b = try #require(results["b.com"])
        #expect(b.input == "b.com" && b.source == "one.txt:4" && b.dropTime == nil && b.email == nil)
        let c = try #require(results["c.com"])
        #expect(c.source == "two.csv:2" && c.email == "")
        #expect(results["d.com"]?.source == "given:7")
        #expect(results["e.com"]?.source == "one.txt:12")
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast, now: t0)
        #expect(names(try all(ledger, .pending)) == ["a.com", "b.com", "c.com", "d.com", "e.com"])
    }

    @Test func runsAreKeptApart() throws {
        let ledger = try makeLedger(["a.com", "b.com"])
        try ledger.openRun("other", now: t0)
        try ledger.ingest(run: "other", [entry("a.com")])
        try ledger.preparePairs(run: "other", providers: [.dynadot], rememberSince: .distantPast, now: t0)
        try ledger.recordInvalid(run: "other", file: "x.txt", line: 1, text: "x", reason: "not a domain")
        #expect(try ledger.domainCount(run: run) == 2)
        #expect(try ledger.domainCount(run: "other") == 1)
        #expect(try ledger.invalidCount(run: run) == 0)
        #expect(try ledger.stateCounts(run: "other") == [.dynadot: [.pending: 1]])
        _ = try ledger.beginSend(run: "other", provider: .dynadot, domains: [domain("a.com")], now: t0)
        #expect(names(try all(ledger, .pending)) == ["a.com", "b.com"])
    }

    // MARK: recovery

    @Test func recoveryMakesInterruptedSendsUnknownWithTheirIntentAndRetriesFailedPairs() throws {
        let ledger = try makeLedger(["a.com", "b.com", "c.com", "d.com"], providers: [.gname, .yay])
        let intent = try ledger.beginSend(run: run, provider: .gname, domains: [domain("a.com"), domain("b.com")], now: t0)
        try ledger.record(
            run: run, provider: .gname, [PairUpdate(domain: domain("c.com"), state: .failed, code: .halted, message: "gname lane halted")], now: t0)
        // Another provider's pairs mid-send are that lane's business.
        _ = try ledger.beginSend(run: run, provider: .yay, domains: [domain("a.com")], now: t0)

        let later = t0.addingTimeInterval(30)
        let recovered = try ledger.recoverLane(run: run, provider: .gname, now: later)
        #expect(recovered.interrupted == 2)
        #expect(recovered.retried == 1)
        let unknown = try all(ledger, .unknown, provider: .gname)
        #expect(names(unknown) == ["a.com", "b.com"])
        #expect(unknown.allSatisfy { $0.unanswered == 1 && $0.attempts == 1 })
        #expect(names(try all(ledger, .pending, provider: .gname)) == ["c.com", "d.com"])
        let a = try #require(try projected(ledger, provider: .gname)["a.com"])
        #expect(a.message.contains("(intent \(intent))"), "\(a.message)")
        #expect(a.updated == later)
        #expect(try all(ledger, .sending, provider: .yay).count == 1)

        // Nothing left to recover: a second call changes nothing.
        let again = try ledger.recoverLane(run: run, provider: .gname, now: later)
        #expect(again.interrupted == 0 && again.retried == 0)
        #expect(try all(ledger, .unknown, provider: .gname).map(\.unanswered) == [1, 1])
    }

    @Test func recordSettlesPairsAndCountsSendsThatMayHaveLanded() throws {
        let ledger = try makeLedger(["a.com", "b.com"])
        let intent = try ledger.beginSend(run: run, provider: .dynadot, domains: [domain("a.com"), domain("b.com")], now: t0)
        try ledger.record(
            run: run, provider: .dynadot,
            [PairUpdate(domain: domain("a.com"), state: .accepted, code: .ok, message: "placed", reference: "R-1"),
             PairUpdate(domain: domain("b.com"), state: .unknown, code: .noVerdict, message: "not mentioned", unanswered: true)],
            intent: intent, intentOutcome: .settled, now: t0)
        // A later update without a reference keeps the one recorded.
        try ledger.record(run: run, provider: .dynadot, [PairUpdate(domain: domain("a.com"), state: .accepted, code: .lookup, message: "confirmed")], now: t0)
        let a = try #require(try all(ledger, .accepted).first)
        #expect(a.attempts == 1 && a.unanswered == 0)
        let b = try #require(try all(ledger, .unknown).first)
        #expect(b.attempts == 1 && b.unanswered == 1)
        let files = try projected(ledger)
        #expect(files["a.com"]?.reference == "R-1")
        #expect(files["a.com"]?.code == "lookup")
        #expect(files["b.com"]?.code == "no-verdict")
        // Nothing to record and no intent: nothing happens.
        try ledger.record(run: run, provider: .dynadot, [], now: t0)
    }

    // MARK: memory across runs

    @Test func anEarlierRunsPlacementWithinTheWindowIsNotSentAgain() throws {
        let ledger = try makeLedger(["a.com", "b.com", "c.com"], providers: [.dynadot, .gname])
        let placed = t0.addingTimeInterval(3600)
        try ledger.record(
            run: run, provider: .dynadot,
            [PairUpdate(domain: domain("a.com"), state: .accepted, code: .ok, message: "placed", reference: "R-a"),
             PairUpdate(domain: domain("b.com"), state: .rejected, code: .rejected, message: "taken"),
             PairUpdate(domain: domain("c.com"), state: .already, code: .already, message: "already on the list")],
            now: placed)

        // The window is `rememberSince`: a placement before it is forgotten.
        let now = t0.addingTimeInterval(86_400)
        let forgetful = "short-memory"
        try ledger.openRun(forgetful, now: now)
        try ledger.ingest(run: forgetful, [entry("a.com")])
        try ledger.preparePairs(run: forgetful, providers: [.dynadot], rememberSince: placed.addingTimeInterval(1), now: now)
        #expect(names(try all(ledger, .pending, run: forgetful)) == ["a.com"])

        let next = "next-day"
        try ledger.openRun(next, now: now)
        try ledger.ingest(run: next, ["a.com", "b.com", "c.com", "d.com"].map { entry($0) })
        try ledger.preparePairs(run: next, providers: [.dynadot, .gname], rememberSince: now.addingTimeInterval(-2 * 86_400), now: now)
        #expect(names(try all(ledger, .already, run: next)) == ["a.com", "c.com"])
        #expect(names(try all(ledger, .pending, run: next)) == ["b.com", "d.com"], "a rejection is not a placement")
        #expect(names(try all(ledger, .pending, provider: .gname, run: next)).count == 4, "only the provider that placed it")
        let a = try #require(try projected(ledger, run: next)["a.com"])
        #expect(a.message == "placed in run '\(run)' on 2025-10-09; not sent again")
        #expect(a.reference == "R-a")
        #expect(a.attempts == 0)
        #expect(a.updated == now)
    }

    @Test func onlyTheDomainsJustRememberedBecomeDueAgain() throws {
        let ledger = try makeLedger(["a.com", "b.com"])
        try ledger.record(run: run, provider: .dynadot, [PairUpdate(domain: domain("a.com"), state: .accepted, code: .ok, message: "placed")], now: t0)
        let next = "next-day"
        try ledger.openRun(next, now: t0)
        try ledger.ingest(run: next, [entry("a.com"), entry("b.com")])
        let now = t0.addingTimeInterval(60)
        try ledger.preparePairs(run: next, providers: [.dynadot], rememberSince: .distantPast, now: now)
        try ledger.markWritten(run: next, try ledger.dueResults(run: next, afterDomain: "", limit: 10))
        #expect(try ledger.dueResults(run: next, afterDomain: "", limit: 10).isEmpty)
        // Preparing again (the next invocation of the same run) marks nothing new, so no file is rewritten.
        try ledger.preparePairs(run: next, providers: [.dynadot], rememberSince: .distantPast, now: now.addingTimeInterval(60))
        #expect(try ledger.dueResults(run: next, afterDomain: "", limit: 10).isEmpty)
        #expect(try ledger.stateCounts(run: next) == [.dynadot: [.already: 1, .pending: 1]])
    }

    // MARK: counts

    /// dynadot: one pair in each working state and two kinds of `unknown`; gname: all pending.
    func ledgerInEveryState() throws -> Ledger {
        let ledger = try makeLedger(["a.com", "b.com", "c.com", "d.com", "e.com", "f.com", "g.com"], providers: [.dynadot, .dnspod])
        try ledger.record(
            run: run, provider: .dynadot,
            [PairUpdate(domain: domain("c.com"), state: .failed, code: .attempts, message: "gave up"),
             PairUpdate(domain: domain("d.com"), state: .unknown, code: .unclear, message: "timeout", unanswered: true),
             PairUpdate(domain: domain("f.com"), state: .accepted, code: .ok, message: "placed"),
             PairUpdate(domain: domain("g.com"), state: .rejected, code: .rejected, message: "taken")],
            now: t0)
        try ledger.record(
            run: run, provider: .dnspod,
            [PairUpdate(domain: domain("a.com"), state: .unknown, code: .noLookup, message: "sent twice; check at the provider"),
             PairUpdate(domain: domain("b.com"), state: .unknown, code: .lookupFailed, message: "lookup failed")]
                + ["c.com", "d.com", "e.com", "f.com", "g.com"].map { PairUpdate(domain: domain($0), state: .accepted, code: .ok, message: "placed") },
            now: t0)
        _ = try ledger.beginSend(run: run, provider: .dynadot, domains: [domain("b.com")], now: t0)
        return ledger
    }

    @Test func stateCountsArePerProviderAndState() throws {
        let ledger = try ledgerInEveryState()
        let counts = try ledger.stateCounts(run: run)
        #expect(counts[.dynadot] == [.pending: 2, .sending: 1, .failed: 1, .unknown: 1, .accepted: 1, .rejected: 1])
        #expect(counts[.dnspod] == [.unknown: 2, .accepted: 5])
        #expect(counts[.gname] == nil)
        #expect(try ledger.stateCounts(run: "no-such-run").isEmpty)
    }

    @Test func resumableCountLeavesOutWhatNoLookupCanSettle() throws {
        let ledger = try ledgerInEveryState()
        // dynadot: a, e pending; b sending; c failed; d unknown (unclear). dnspod: b unknown (lookup failed).
        // Not: dnspod's a.com (no-lookup), and everything settled.
        #expect(try ledger.resumableCount(run: run) == 6)
        // An unknown pair without a code (interrupted mid-send) is resumable too.
        _ = try ledger.recoverLane(run: run, provider: .dynadot, now: t0)
        #expect(try ledger.resumableCount(run: run) == 6)
        try ledger.record(
            run: run, provider: .dnspod, [PairUpdate(domain: domain("b.com"), state: .unknown, code: .noLookup, message: "sent twice")], now: t0)
        #expect(try ledger.resumableCount(run: run) == 5)
    }

    // MARK: the vocabulary as stored

    @Test func storedNamesAreTheOnesEarlierVersionsWrote() throws {
        // Existing ledgers hold these strings: changing a raw value would strand their rows.
        #expect(PairState.allCases.map(\.rawValue) == ["pending", "sending", "unknown", "accepted", "already", "rejected", "failed", "skipped"])
        #expect(PairCode.allCases.map(\.rawValue) == [
            "ok", "already", "rejected", "skipped", "no-verdict", "refused", "unclear", "batch-error", "halted", "requeued", "policy",
            "cap", "attempts", "lookup", "no-lookup", "lookup-failed",
        ])
        #expect(IntentOutcome.allCases.map(\.rawValue) == ["settled", "refused", "unclear", "batch-failed", "halt"])

        let ledger = try makeLedger(PairCode.allCases.indices.map { "d\($0).com" })
        try ledger.record(
            run: run, provider: .dynadot,
            PairCode.allCases.enumerated().map { PairUpdate(domain: domain("d\($0.offset).com"), state: .unknown, code: $0.element, message: "") }, now: t0)
        let files = try projected(ledger)
        #expect(PairCode.allCases.indices.map { files["d\($0).com"]?.code } == PairCode.allCases.map(\.rawValue))
    }

    // MARK: result projection

    @Test func dueResultsComeInNamePagesWithEveryProvidersPair() throws {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        let drop = t0.addingTimeInterval(7200)
        try ledger.ingest(run: run, [entry("c.com", source: "l:1", drop: drop, email: "c@example.com"), entry("a.com", source: "l:2"), entry("b.com", source: "l:3")])
        try ledger.preparePairs(run: run, providers: [.yay, .dynadot], rememberSince: .distantPast, now: t0)
        let updated = t0.addingTimeInterval(5)
        try ledger.record(
            run: run, provider: .yay, [PairUpdate(domain: domain("c.com"), state: .accepted, code: .ok, message: "created", reference: "uuid-1")], now: updated)

        let first = try ledger.dueResults(run: run, afterDomain: "", limit: 2)
        #expect(first.map(\.domain) == ["a.com", "b.com"])
        let rest = try ledger.dueResults(run: run, afterDomain: "b.com", limit: 2)
        #expect(rest.map(\.domain) == ["c.com"])
        #expect(try ledger.dueResults(run: run, afterDomain: "c.com", limit: 2).isEmpty)

        let c = rest[0]
        #expect(c.input == "c.com" && c.source == "l:1" && c.dropTime == drop && c.email == "c@example.com")
        #expect(c.version == 2, "one recorded change")
        #expect(c.pairs == [
            PairResultRow(provider: "dynadot", state: .pending, attempts: 0, code: nil, message: "", reference: nil, updated: t0),
            PairResultRow(provider: "yay", state: .accepted, attempts: 0, code: "ok", message: "created", reference: "uuid-1", updated: updated),
        ])
        #expect(first[0].dropTime == nil && first[0].email == nil && first[0].version == 1)
    }

    @Test func writtenResultsStayWrittenUntilTheirDomainChanges() throws {
        let ledger = try makeLedger(["a.com", "b.com", "c.com"])
        let due = try ledger.dueResults(run: run, afterDomain: "", limit: 10)
        try ledger.markWritten(run: run, Array(due.prefix(2)))
        #expect(try ledger.dueResults(run: run, afterDomain: "", limit: 10).map(\.domain) == ["c.com"])

        // A change after the read keeps the domain due even when the file read before it is marked written.
        let stale = try ledger.dueResults(run: run, afterDomain: "", limit: 10)
        try ledger.record(run: run, provider: .dynadot, [PairUpdate(domain: domain("c.com"), state: .accepted, code: .ok, message: "placed")], now: t0)
        try ledger.markWritten(run: run, stale)
        let again = try ledger.dueResults(run: run, afterDomain: "", limit: 10)
        #expect(again.map(\.domain) == ["c.com"])
        #expect(again[0].pairs.map(\.state) == [.accepted])
        try ledger.markWritten(run: run, again)
        #expect(try ledger.dueResults(run: run, afterDomain: "", limit: 10).isEmpty)
        try ledger.markWritten(run: run, [])

        // A results directory made anew needs every file again.
        try ledger.markAllResultsUnwritten(run: run)
        #expect(try ledger.dueResults(run: run, afterDomain: "", limit: 10).map(\.domain) == ["a.com", "b.com", "c.com"])
    }

    @Test func invalidLinesComeByFileAndLineOnceEach() throws {
        let ledger = try makeLedger([])
        try ledger.recordInvalid(run: run, file: "two.txt", line: 3, text: "x y", reason: "space in a name")
        try ledger.recordInvalid(run: run, file: "one.txt", line: 9, text: "-a.com", reason: "starts with a hyphen")
        try ledger.recordInvalid(run: run, file: "one.txt", line: 2, text: "a..com", reason: "empty label")
        // The same line read again (a rerun) is kept once, as first recorded.
        try ledger.recordInvalid(run: run, file: "one.txt", line: 2, text: "a..com", reason: "another reason")
        try ledger.recordInvalid(run: "other", file: "one.txt", line: 1, text: "?", reason: "not a domain")
        #expect(try ledger.invalidCount(run: run) == 3)
        #expect(try ledger.invalidRows(run: run) == [
            InvalidRow(file: "one.txt", line: 2, text: "a..com", reason: "empty label"),
            InvalidRow(file: "one.txt", line: 9, text: "-a.com", reason: "starts with a hyphen"),
            InvalidRow(file: "two.txt", line: 3, text: "x y", reason: "space in a name"),
        ])
        #expect(try ledger.invalidRows(run: "nothing-here").isEmpty)
    }

    // MARK: the lane's view

    @Test func aLanesViewReadsAndWritesOnlyItsRunAndProvider() throws {
        let ledger = try makeLedger(["a.com", "b.com", "c.com"], providers: [.dynadot, .gname])
        let lane = ledger.lane(run: run, provider: .gname)
        let intent = try lane.beginSend([domain("a.com"), domain("b.com")], now: t0)
        try lane.record([PairUpdate(domain: domain("a.com"), state: .accepted, code: .ok, message: "placed")], settling: intent, as: .settled, now: t0)
        try lane.record([PairUpdate(domain: domain("c.com"), state: .skipped, code: .policy, message: "too late")], now: t0)
        #expect(try lane.stateCounts() == [.accepted: 1, .sending: 1, .skipped: 1])
        #expect(try ledger.stateCounts(run: run)[.dynadot] == [.pending: 3])
        #expect(names(try lane.pairs(state: .sending, afterSeq: 0, limit: 10)) == ["b.com"])
        let recovered = try lane.recover(now: t0)
        #expect(recovered.interrupted == 1 && recovered.retried == 0)
        #expect(names(try lane.pairs(state: .unknown, afterSeq: 0, limit: 10)) == ["b.com"])
        let pending = try ledger.lane(run: run, provider: .dynadot).pairs(state: .pending, afterSeq: 1, limit: 1)
        #expect(names(pending) == ["b.com"])
    }
}
