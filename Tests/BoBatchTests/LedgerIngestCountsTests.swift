@testable import BoBatch
import Foundation
import Testing

/// The ingest's batched INSERT and the domain counts kept since migration "v-wt-ingest" (issue 9): every line keeps
/// its own values across batch and file boundaries, and the counts the summary, exit facts, report and plan read
/// are the ones a walk of the run's domains gives, in a fresh ledger and in one made by the previous version.
@Suite struct LedgerIngestCountsTests {
    let run = "counts-test"
    let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }

    func entry(_ name: String) -> IngestEntry {
        IngestEntry(domain: domain(name), input: name, source: "list.txt:1", attributes: DomainAttributes())
    }

    @Test func linesKeepTheirOwnValuesAcrossBatchesAndFiles() throws {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        // 150 lines of one file (two full batches and a part), 3 of another, then the first file again (a file
        // change mid-batch each time), names repeated across all of them; values differ from line to line.
        struct Line { var name: String; var input: String; var file: String; var line: Int; var drop: Date?; var email: String? }
        var lines: [Line] = []
        func add(_ k: Int, file: String, line: Int) {
            lines.append(Line(
                name: "d\(k).com", input: "D\(k).com.", file: file, line: line,
                drop: line % 3 == 0 ? t0.addingTimeInterval(Double(line) * 60) : nil, email: line % 5 == 0 ? "o\(line)@example.com" : nil))
        }
        for i in 1...150 { add(i % 7 == 0 ? i / 7 : i, file: "one.txt", line: i) }
        for i in 1...3 { add(1_000 + i, file: "two.csv", line: i) }
        for i in 151...220 { add(i % 4 == 0 ? 1_000 + (i % 3) + 1 : i, file: "one.txt", line: i) }
        let tally = try ledger.ingestInput(run: run) { sink in
            for l in lines {
                try sink.add(
                    domain: domain(l.name), input: l.input, file: l.file, line: l.line, attributes: DomainAttributes(dropTime: l.drop, email: l.email))
            }
        }
        var first: [String: Line] = [:]
        var order: [String] = []
        for l in lines where first[l.name] == nil {
            first[l.name] = l
            order.append(l.name)
        }
        #expect(tally == IngestTally(new: order.count, distinct: order.count))
        #expect(try ledger.domainCount(run: run) == order.count)
        #expect(try ledger.runs().map(\.domains) == [order.count])
        let results = try ledger.dueResults(run: run, afterDomain: "", limit: 1_000)
        #expect(results.count == order.count)
        for r in results {
            let l = try #require(first[r.domain])
            #expect(r.input == l.input && r.source == "\(l.file):\(l.line)" && r.dropTime == l.drop && r.email == l.email, "\(r.domain)")
        }
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast, now: t0)
        let pending = try ledger.pairs(run: run, provider: .dynadot, state: .pending, afterSeq: 0, limit: 1_000)
        #expect(pending.map(\.item.domain.ascii) == order, "input order, first occurrence wins")
    }

    @Test func theCountsFollowIngestsPreparesAndSends() throws {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, ["a.com", "b.com", "a.com", "c.com"].map(entry))
        try ledger.preparePairs(run: run, providers: [.dynadot, .gname], rememberSince: .distantPast, now: t0)
        #expect(try ledger.stateCounts(run: run) == [.dynadot: [.pending: 3], .gname: [.pending: 3]])

        // A second ingest not yet prepared: the run holds more, the providers' marks (and counts) stay.
        try ledger.beginIngest(run: run)
        #expect(try ledger.ingest(run: run, ["c.com", "d.com", "e.com"].map(entry)) == 2)
        #expect(try ledger.domainCount(run: run) == 5)
        #expect(try ledger.stateCounts(run: run) == [.dynadot: [.pending: 3], .gname: [.pending: 3]])
        #expect(try ledger.resumableCount(run: run) == 6)

        // Prepared for one provider, sent in part: a row made by the send is no longer counted as pending.
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast, now: t0)
        let intent = try ledger.beginSend(run: run, provider: .dynadot, domains: [domain("b.com")], now: t0)
        try ledger.record(
            run: run, provider: .dynadot, [PairUpdate(domain: domain("b.com"), state: .accepted, message: "placed")], intent: intent,
            intentOutcome: .settled, now: t0)
        #expect(try ledger.stateCounts(run: run) == [.dynadot: [.pending: 4, .accepted: 1], .gname: [.pending: 3]])
        #expect(try ledger.resumableCount(run: run) == 7)
        let tally = try ledger.planTally(run: run)
        #expect(tally[.dynadot]?.filter { $0.state == .pending }.map(\.count) == [4])
        #expect(tally[.gname]?.filter { $0.state == .pending }.map(\.count) == [3])
        #expect(try ledger.reportProblems(run: run, limit: 100, pendingLimit: 100).total == 7)
    }

    @Test func aLedgerOfThePreviousVersionGetsItsCountsOnUpgrade() throws {
        let directory = TestPaths.temporaryDirectory()
        do {
            // As the version before "v-wt-ingest" left it, in its own schema: a run whose duplicates left gaps in
            // the ids, prepared for two providers at different marks, one pair placed; and a second run.
            let old = try Ledger(directory: directory, migratingUpTo: "v9-hot")
            #expect(try old.appliedMigrations().last == "v9-hot")
            try old.executeAsOlderVersion("""
                INSERT INTO runs(id, name, created_at, updated_at, invocations, ingests) VALUES
                    (1, '\(run)', 1760000000, 1760000000, 1, 1), (2, 'other', 1760000000, 1760000000, 1, 1);
                INSERT INTO domains(run_id, id, domain, input, source) VALUES
                    (1, 1, 'a.com', 'a.com', 'l:1'), (1, 2, 'b.com', 'b.com', 'l:2'), (1, 4, 'c.com', 'c.com', 'l:4'),
                    (1, 7, 'd.com', 'd.com', 'l:7'), (2, 1, 'a.com', 'a.com', 'm:1');
                INSERT INTO names(run_id, domain, id, seen) VALUES
                    (1, 'a.com', 1, 1), (1, 'b.com', 2, 1), (1, 'c.com', 4, 1), (1, 'd.com', 7, 1), (2, 'a.com', 1, 1);
                INSERT INTO run_providers(run_id, provider, added_at, through) VALUES
                    (1, 'dynadot', 1760000000, 4), (1, 'gname', 1760000000, 7), (2, 'dynadot', 1760000000, 1);
                INSERT INTO pairs(run_id, provider, id, state, attempts, message, reference, updated_at) VALUES
                    (1, 'dynadot', 2, 'accepted', 1, 'placed', 'R-b', 1760000000);
                """)
        }
        let ledger = try Ledger(directory: directory)
        #expect(try ledger.appliedMigrations() == Ledger.migrator.migrations)
        #expect(try ledger.domainCount(run: run) == 4)
        #expect(try ledger.domainCount(run: "other") == 1)
        #expect(Set(try ledger.runs().map(\.domains)) == [4, 1])
        #expect(try ledger.stateCounts(run: run) == [.dynadot: [.pending: 2, .accepted: 1], .gname: [.pending: 4]])
        #expect(try ledger.stateCounts(run: "other") == [.dynadot: [.pending: 1]])
        #expect(try ledger.resumableCount(run: run) == 6)
        #expect(try ledger.planTally(run: run)[.gname]?.map(\.count) == [4])

        // The upgraded ledger goes on counting: a rerun of the input with one name more, prepared again.
        try ledger.beginIngest(run: run)
        #expect(try ledger.ingest(run: run, ["a.com", "e.com", "d.com"].map(entry)) == 1)
        #expect(try ledger.domainCount(run: run) == 5)
        try ledger.preparePairs(run: run, providers: [.dynadot, .gname], rememberSince: .distantPast, now: t0)
        #expect(try ledger.stateCounts(run: run) == [.dynadot: [.pending: 4, .accepted: 1], .gname: [.pending: 5]])
        #expect(try ledger.pairs(run: run, provider: .gname, state: .pending, afterSeq: 0, limit: 10).map(\.item.domain.ascii)
            == ["a.com", "b.com", "c.com", "d.com", "e.com"])
    }
}
