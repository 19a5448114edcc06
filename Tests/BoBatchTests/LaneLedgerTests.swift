@testable import BoBatch
import Foundation
import Testing

/// The lane's hot path through the ledger: the intent keyed by pair ids, and the WAL copied back off the lane's path.
@Suite struct LaneLedgerTests {
    let run = "lane-ledger-test"
    let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }

    func makeLedger(_ names: [String], providers: [ProviderID]) throws -> Ledger {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, names.map { IngestEntry(domain: domain($0), input: $0, source: "list.txt:1", attributes: DomainAttributes()) })
        try ledger.preparePairs(run: run, providers: providers, rememberSince: .distantPast, now: t0)
        return ledger
    }

    @Test func anIntentByPairIdsMarksExactlyThosePairsSendingAndCountsTheirSends() throws {
        let ledger = try makeLedger(["d.com", "b.com", "a.com", "c.com"], providers: [.dynadot, .gname])
        let lane = ledger.lane(run: run, provider: .dynadot)
        // b.com was sent before and put back to pending: it has a row, the others have none yet.
        let first = try lane.beginSend(try lane.pairs(state: .pending, afterSeq: 0, limit: 10).filter { $0.item.domain.ascii == "b.com" }, now: t0)
        try lane.record([PairUpdate(domain: domain("b.com"), state: .pending, code: .requeued, message: "again")], settling: first, as: .refused, now: t0)

        let chunk = try lane.pairs(state: .pending, afterSeq: 0, limit: 3)
        #expect(chunk.map(\.item.domain.ascii) == ["d.com", "b.com", "a.com"])
        let intent = try lane.beginSend(chunk, now: t0)
        #expect(intent > first)
        let sending = try lane.pairs(state: .sending, afterSeq: 0, limit: 10)
        #expect(sending.map(\.item.domain.ascii) == ["d.com", "b.com", "a.com"])
        #expect(sending.map(\.attempts) == [1, 2, 1])
        #expect(try lane.pairs(state: .pending, afterSeq: 0, limit: 10).map(\.item.domain.ascii) == ["c.com"])
        // The other provider's pairs of the same domains are untouched.
        #expect(try ledger.stateCounts(run: run)[.gname] == [.pending: 4])

        // The answer settles them as the old path did: recovery finds nothing mid-send.
        try lane.record(chunk.map { PairUpdate(domain: $0.item.domain, state: .accepted, code: .ok, message: "placed") }, settling: intent, as: .settled, now: t0)
        #expect(try lane.stateCounts() == [.accepted: 3, .pending: 1])
        #expect(try lane.recover(now: t0).interrupted == 0)
    }

    /// What a run leaves for its result files, per domain: every pair as the writer reads it, and whether it is due.
    /// Not how it is due: the lane's path marks a domain due by its id (`result_due`), the general one by bumping
    /// its name's version.
    func projection(_ ledger: Ledger) throws -> [String] {
        try ledger.dueResults(run: run, afterDomain: "", limit: 1000).map {
            "\($0.domain) \($0.input) \($0.source) \(String(describing: $0.dropTime)) \(String(describing: $0.email)) \($0.written) \($0.pairs)"
        }
    }

    /// The periodic flush finds what moved through `result_due` and the partial index `names_moved` (migration
    /// "v10-moved"), not by walking every name: a ledger of the version before gets the index on upgrade, with the
    /// names already bumped past their written version in it, and the due list is the same as a walk would give.
    @Test func thePeriodicFlushFindsWhatMovedInALedgerUpgradedFromTheVersionBefore() throws {
        let directory = TestPaths.temporaryDirectory()
        do {
            let old = try Ledger(directory: directory, migratingUpTo: "v-wt-ingest")
            #expect(try old.appliedMigrations().last == "v-wt-ingest")
            // Five names: waiting (version 1, never written), written and unchanged, bumped past its written
            // version by a lookup (2 > 1), marked by a lane's answer, and both bumped and marked.
            try old.executeAsOlderVersion("""
                INSERT INTO runs(id, name, created_at, updated_at, invocations, ingests, domains) VALUES
                    (1, '\(run)', 1760000000, 1760000000, 1, 1, 5);
                INSERT INTO domains(run_id, id, domain, input, source) VALUES
                    (1, 1, 'e.com', 'e.com', 'l:1'), (1, 2, 'd.com', 'd.com', 'l:2'), (1, 3, 'c.com', 'c.com', 'l:3'),
                    (1, 4, 'b.com', 'b.com', 'l:4'), (1, 5, 'a.com', 'a.com', 'l:5');
                INSERT INTO names(run_id, domain, id, version, written, seen) VALUES
                    (1, 'e.com', 1, 1, 0, 1), (1, 'd.com', 2, 2, 2, 1), (1, 'c.com', 3, 2, 1, 1),
                    (1, 'b.com', 4, 1, 1, 1), (1, 'a.com', 5, 3, 0, 1);
                INSERT INTO run_providers(run_id, provider, added_at, through, domains) VALUES (1, 'dynadot', 1760000000, 5, 5);
                INSERT INTO result_due(run_id, id, changes) VALUES (1, 4, 1), (1, 5, 2);
                """)
        }
        let ledger = try Ledger(directory: directory)
        #expect(try ledger.appliedMigrations() == Ledger.migrator.migrations)
        func due(movedOnly: Bool, after: String = "", limit: Int = 100) throws -> [String] {
            try ledger.dueResults(run: run, afterDomain: after, limit: limit, movedOnly: movedOnly).map(\.domain)
        }
        #expect(try due(movedOnly: true) == ["a.com", "b.com", "c.com"], "bumped, marked, or both; each once, by name")
        #expect(try due(movedOnly: false) == ["a.com", "b.com", "c.com", "e.com"], "the final flush adds the waiting one")
        // Paged by name, as the writer reads it.
        #expect(try due(movedOnly: true, limit: 2) == ["a.com", "b.com"])
        #expect(try due(movedOnly: true, after: "b.com", limit: 2) == ["c.com"])

        // Written as read: nothing moved is left; a name bumped again comes back.
        try ledger.markWritten(run: run, try ledger.dueResults(run: run, afterDomain: "", limit: 100, movedOnly: true))
        #expect(try due(movedOnly: true).isEmpty)
        #expect(try due(movedOnly: false) == ["e.com"])
        try ledger.record(run: run, provider: .dynadot, [PairUpdate(domain: DomainName(validatedASCII: "d.com"), state: .rejected, message: "no")])
        #expect(try due(movedOnly: true) == ["d.com"])
    }

    @Test func anAnswerByPairIdsMakesItsFilesDueUntilWrittenAndAgainAfterTheNextAnswer() throws {
        let ledger = try makeLedger(["d.com", "b.com", "a.com", "c.com"], providers: [.dynadot])
        let lane = ledger.lane(run: run, provider: .dynadot)
        func due(movedOnly: Bool = false) throws -> [String] {
            try ledger.dueResults(run: run, afterDomain: "", limit: 100, movedOnly: movedOnly).map(\.domain)
        }
        #expect(try due(movedOnly: true).isEmpty, "nothing moved yet")
        let chunk = try lane.pairs(state: .pending, afterSeq: 0, limit: 2)
        var intent = try lane.beginSend(chunk, now: t0)
        try lane.record(chunk.map { PairUpdate(domain: $0.item.domain, state: .accepted, code: .ok, message: "placed") }, of: chunk, settling: intent, as: .settled, now: t0)
        #expect(try due(movedOnly: true) == ["b.com", "d.com"], "the periodic flush sees the answered ones")
        #expect(try due() == ["a.com", "b.com", "c.com", "d.com"])
        try ledger.markWritten(run: run, try ledger.dueResults(run: run, afterDomain: "", limit: 100))
        #expect(try due().isEmpty)

        // Answered again after its file was written (a pair put back and sent again): due again, and an answer that
        // comes between the read and the written mark keeps it due.
        intent = try lane.beginSend([chunk[0]], now: t0)
        try lane.record([PairUpdate(domain: chunk[0].item.domain, state: .pending, code: .refused, message: "busy")], of: [chunk[0]], settling: intent, as: .refused, now: t0)
        let stale = try ledger.dueResults(run: run, afterDomain: "", limit: 100)
        #expect(stale.map(\.domain) == ["d.com"])
        #expect(stale[0].written == stale[0].version, "its file exists")
        intent = try lane.beginSend([chunk[0]], now: t0)
        try lane.record([PairUpdate(domain: chunk[0].item.domain, state: .accepted, code: .ok, message: "placed")], of: [chunk[0]], settling: intent, as: .settled, now: t0)
        try ledger.markWritten(run: run, stale)
        let again = try ledger.dueResults(run: run, afterDomain: "", limit: 100)
        #expect(again.map(\.domain) == ["d.com"])
        #expect(again[0].pairs.map(\.state) == [.accepted])
        try ledger.markWritten(run: run, again)
        #expect(try due().isEmpty)

        // A results directory made anew needs every file again.
        try ledger.markAllResultsUnwritten(run: run)
        #expect(try due() == ["a.com", "b.com", "c.com", "d.com"])
    }

    @Test func anAnswerRecordedByPairIdsLeavesTheRowsTheGeneralPathLeaves() throws {
        let names = ["d.com", "b.com", "a.com", "c.com", "e.com"]
        // The same sends and answers on two ledgers: one answered through the lane's id-keyed path, one by name.
        var results: [[String]] = []
        for byIds in [true, false] {
            let ledger = try makeLedger(names, providers: [.dynadot, .gname])
            let lane = ledger.lane(run: run, provider: .dynadot)
            func answer(_ updates: [PairUpdate], of pairs: [PairRow], _ intent: Int64, _ outcome: IntentOutcome, _ now: Date) throws {
                if byIds {
                    try lane.record(updates, of: pairs, settling: intent, as: outcome, now: now)
                } else {
                    try lane.record(updates, settling: intent, as: outcome, now: now)
                }
            }
            let chunk = try lane.pairs(state: .pending, afterSeq: 0, limit: 4)
            let first = try lane.beginSend(chunk, now: t0)
            // Unclear first (counted unanswered, a reference kept), then settled with and without references.
            try answer(
                chunk.map { PairUpdate(domain: $0.item.domain, state: .unknown, code: .unclear, message: "no answer", reference: "r-\($0.item.domain.ascii)", unanswered: true) },
                of: chunk, first, .unclear, t0)
            let again = try lane.beginSend(chunk, now: t0.addingTimeInterval(1))
            try answer(
                [
                    PairUpdate(domain: chunk[0].item.domain, state: .accepted, code: .ok, message: "placed", reference: "new"),
                    PairUpdate(domain: chunk[1].item.domain, state: .already, code: .already, message: "had it"),
                    PairUpdate(domain: chunk[2].item.domain, state: .rejected, code: .rejected, message: "no"),
                    PairUpdate(domain: chunk[3].item.domain, state: .pending, code: .refused, message: "refused, will retry"),
                ],
                of: chunk, again, .settled, t0.addingTimeInterval(2))
            #expect(try lane.recover(now: t0).interrupted == 0)
            #expect(try lane.stateCounts() == [.accepted: 1, .already: 1, .rejected: 1, .pending: 2])
            #expect(try lane.pairs(state: .pending, afterSeq: 0, limit: 10).map(\.attempts) == [2, 0])
            #expect(try lane.pairs(state: .pending, afterSeq: 0, limit: 10).map(\.unanswered) == [1, 0])
            results.append(try projection(ledger))
        }
        #expect(results[0] == results[1])
        #expect(results[0].count == names.count)
    }

    /// A worker's held answer and its next intent land in one commit. A process killed right after it leaves, for a
    /// ledger opened afresh, the first request answered and only the second open: the one a rerun settles by lookup.
    @Test func anAnswerAndTheNextIntentCommitTogetherAndAKillLeavesOnlyTheNextOpen() throws {
        let ledger = try makeLedger(["a.com", "b.com", "c.com"], providers: [.yay, .gname])
        let lane = ledger.lane(run: run, provider: .yay)
        let pending = try lane.pairs(state: .pending, afterSeq: 0, limit: 10)
        let first = try lane.beginSend([pending[0]], now: t0)
        let held = Lane.UnrecordedAnswer(
            updates: [PairUpdate(domain: pending[0].item.domain, state: .accepted, code: .ok, message: "placed", reference: "r-1")],
            pairs: [pending[0]], intent: first, answeredAt: t0.addingTimeInterval(0.05), sent: t0.addingTimeInterval(0.001))
        let second = try lane.record(held, thenBeginSend: [pending[1]], now: t0.addingTimeInterval(0.002))
        #expect(second > first)

        let afterKill = try Ledger(directory: (ledger.path as NSString).deletingLastPathComponent)
        let reopened = afterKill.lane(run: run, provider: .yay)
        #expect(try reopened.pairs(state: .accepted, afterSeq: 0, limit: 10).map(\.item.domain.ascii) == ["a.com"])
        #expect(try reopened.pairs(state: .sending, afterSeq: 0, limit: 10).map(\.item.domain.ascii) == ["b.com"])
        #expect(try reopened.stateCounts() == [.accepted: 1, .sending: 1, .pending: 1])
        // The other provider's pairs are untouched; the answer made a.com's file due, as the answer's own commit does.
        #expect(try afterKill.stateCounts(run: run)[.gname] == [.pending: 3])
        #expect(try afterKill.dueResults(run: run, afterDomain: "", limit: 10, movedOnly: true).map(\.domain) == ["a.com"])
        let intents = try afterKill.reportIntents(run: run)
        #expect(intents.map(\.outcome) == [.settled, nil])
        // The first request is timed from its send, not from its intent's commit.
        #expect(intents.first?.createdAt == t0.addingTimeInterval(0.001).timeIntervalSince1970)
        #expect(try reopened.recover(now: t0).interrupted == 1)
        #expect(try reopened.pairs(state: .unknown, afterSeq: 0, limit: 10).map(\.item.domain.ascii) == ["b.com"])
    }

    @Test func theCheckpointerCopiesEveryCommittedPageOfTheWAL() throws {
        let ledger = try makeLedger((0..<500).map { "name\($0).com" }, providers: [.dynadot])
        let lane = ledger.lane(run: run, provider: .dynadot)
        let chunk = try lane.pairs(state: .pending, afterSeq: 0, limit: 100)
        let intent = try lane.beginSend(chunk, now: t0)
        try lane.record(chunk.map { PairUpdate(domain: $0.item.domain, state: .accepted, code: .ok, message: "placed") }, settling: intent, as: .settled, now: t0)

        let copy = try lane.checkpointer.checkpoint()
        #expect(copy.walFrames > 0)
        #expect(copy.copied == copy.walFrames)
        // What was committed is what the ledger reads, through its own connections.
        #expect(try lane.stateCounts() == [.accepted: 100, .pending: 400])
    }
}
