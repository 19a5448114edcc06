@testable import BoBatch
import Foundation
import Testing

/// The result files a run's only lane hands to the writer (``ResultFeed``) must be exactly the files the ledger
/// rebuilds: the ledger stays the source of truth, the feed only saves reading it back.
@Suite struct ResultFeedTests {
    let run = "feed-test"

    func files(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".json") && name != "summary.json" {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)"))
        }
        return out
    }

    /// A one-provider run whose answers take every path: clear first answers (fed), a batch that fails as a whole
    /// and is settled by lookup and split (read from the ledger), domains placed before (already), a rejected one,
    /// and a name too long for its own file name. Every file is then rebuilt from the ledger alone into another
    /// directory, and the two must match byte for byte.
    @Test func filesWrittenFromTheLaneMatchTheLedgersRebuildByteForByte() async throws {
        let dir = TestPaths.temporaryDirectory("feed-input")
        let names = (0..<250).map { "n\($0).com" } + [LongNames.name(octets: 253), "bad.net", "placed.org"]
        let input = (dir as NSString).appendingPathComponent("list.txt")
        FileManager.default.createFile(atPath: input, contents: Data((names.joined(separator: "\n") + "\n").utf8))
        let provider = FakeProvider(maxBatch: 100)
        provider.bad = ["bad.net"]
        provider.place(["placed.org"])
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        let out = TestPaths.temporaryDirectory("feed-out")
        let plan = SubmitPlan(
            run: run, inputs: [input], inputOptions: InputOptions(), resultsDirectory: out, rememberDays: 30,
            lanes: [LaneSetup(provider: provider, settings: LaneSettings(pacing: Pacing(concurrency: 1, requestsPerMinute: 6000), maxAttempts: 5))])
        let job = try SubmitJob(plan: plan, ledger: ledger, clock: TestClock())
        let feed = try #require(job.writer.feed, "a one-lane job feeds its writer")
        let summary = try job.ingest { _ in }
        let reports = try await job.runLanes()
        let finished = try job.finish(input: summary, reports: reports)
        #expect(finished.resultFileErrors == 0)
        // The first two chunks' clear answers are fed; the chunk that failed around bad.net and placed.org is not.
        #expect(feed.served == 200, "\(feed.served) files written from the feed")
        #expect(feed.count == 0, "the written files' rows are dropped from the feed")
        let fromLane = try files(out)
        #expect(fromLane.count == names.count)

        let rebuilt = TestPaths.temporaryDirectory("feed-rebuilt") + "/out"
        let writer = try ResultWriter(directory: rebuilt, ledger: ledger, run: run)
        #expect(try writer.flush().written == names.count)
        let fromLedger = try files(rebuilt)
        #expect(Set(fromLane.keys) == Set(fromLedger.keys))
        for (name, bytes) in fromLedger {
            #expect(fromLane[name] == bytes, "\(name) differs:\n\(String(decoding: fromLane[name] ?? Data(), as: UTF8.self))\n\(String(decoding: bytes, as: UTF8.self))")
        }
        let rejected = try #require(try JSONSerialization.jsonObject(with: fromLane["bad.net.json"] ?? Data()) as? [String: Any])
        #expect(((rejected["outcomes"] as? [String: Any])?["dynadot"] as? [String: Any])?["state"] as? String == "rejected")
    }

    /// A run prepared for another provider too (an earlier invocation's): a domain's file holds both pairs, so the
    /// one lane's feed must not stand in for the ledger, and is left alone.
    @Test func aRunWithAnotherProviderIsWrittenFromTheLedger() throws {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run)
        try ledger.ingest(run: run, ["a.com", "b.com"].map { IngestEntry(domain: DomainName(validatedASCII: $0), input: $0, source: "l:1", attributes: DomainAttributes()) })
        try ledger.preparePairs(run: run, providers: [.dynadot, .yay], rememberSince: .distantPast)
        let pending = try ledger.pairs(run: run, provider: .dynadot, state: .pending, afterSeq: 0, limit: 10)
        #expect(pending.count == 2)
        let accepted = pending.map { PairUpdate(domain: $0.item.domain, state: .accepted, code: .ok, message: "ok") }
        try ledger.record(run: run, provider: .dynadot, accepted)
        // A feed that disagrees with the ledger: were it used, the files would say "rejected".
        let feed = ResultFeed(provider: .dynadot)
        feed.add(pending.map { PairUpdate(domain: $0.item.domain, state: .rejected, code: .rejected, message: "not so") }, of: pending, at: Date())
        #expect(feed.count == 2)
        let out = TestPaths.temporaryDirectory("feed-out")
        let writer = try ResultWriter(directory: out, ledger: ledger, run: run, feed: feed)
        #expect(try writer.flush().written == 2)
        let file = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/a.com.json"))) as? [String: Any])
        let outcomes = try #require(file["outcomes"] as? [String: Any])
        #expect((outcomes["dynadot"] as? [String: Any])?["state"] as? String == "accepted")
        #expect((outcomes["yay"] as? [String: Any])?["state"] as? String != nil)
        #expect(feed.count == 2, "an unused feed keeps its rows")
    }

    /// Only a pair's first send is fed (a resent pair's row may keep an earlier reference and counts sends the lane
    /// did not see), and the feed stops growing at its capacity.
    @Test func onlyFirstSendsAreFedAndTheFeedIsBounded() {
        let feed = ResultFeed(provider: .dynadot)
        func pair(_ i: Int, attempts: Int) -> PairRow {
            PairRow(item: BackorderItem(domain: DomainName(validatedASCII: "d\(i).com")), seq: i, state: .pending, attempts: attempts)
        }
        let pairs = [pair(1, attempts: 0), pair(2, attempts: 1)]
        feed.add(pairs.map { PairUpdate(domain: $0.item.domain, state: .accepted, code: .ok, message: "ok", reference: "r") }, of: pairs, at: Date())
        #expect(feed.pair(id: 1)?.attempts == 1)
        #expect(feed.pair(id: 1)?.reference == "r")
        #expect(feed.pair(id: 2) == nil)
        let many = (10..<(10 + ResultFeed.capacity + 5)).map { pair($0, attempts: 0) }
        feed.add(many.map { PairUpdate(domain: $0.item.domain, state: .accepted, code: .ok, message: "ok") }, of: many, at: Date())
        #expect(feed.count == ResultFeed.capacity)
        feed.remove([1, 10])
        #expect(feed.count == ResultFeed.capacity - 2)
    }
}
