@testable import BoBatch
import Foundation
import Testing

/// The lane's queue over a real ledger: pages read ahead, chunks handed out in input order, each pending pair once.
@Suite struct WorkQueueTests {
    let run = "queue-run"

    func makeLedger(_ count: Int) throws -> Ledger {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run)
        // Names in an order unlike their sorted order, so input order (seq) is what the queue must follow.
        let names = (0..<count).map { "n\(($0 * 7919) % count)-\($0).com" }
        try ledger.ingest(run: run, names.map {
            IngestEntry(domain: DomainName(validatedASCII: $0), input: $0, source: "t:1", attributes: DomainAttributes())
        })
        try ledger.preparePairs(run: run, providers: [.dynadot], rememberSince: .distantPast)
        return ledger
    }

    func drain(_ queue: WorkQueue) async throws -> [[PairRow]] {
        var chunks: [[PairRow]] = []
        while case .chunk(let chunk) = try await queue.next() { chunks.append(chunk.pairs) }
        return chunks
    }

    @Test func handsOutWholeChunksInInputOrderAcrossPages() async throws {
        let ledger = try makeLedger(1_250)
        let queue = WorkQueue(ledger: ledger.lane(run: run, provider: .dynadot), chunkSize: 100, clock: TestClock(), pageSize: 350)
        #expect(queue.pageSize == 300)
        let chunks = try await drain(queue)
        #expect(chunks.map(\.count) == Array(repeating: 100, count: 12) + [50])
        let seqs = chunks.flatMap { $0.map(\.seq) }
        #expect(seqs == seqs.sorted())
        #expect(Set(seqs).count == 1_250)
        guard case .done = try await queue.next() else { Issue.record("work left after the last chunk"); return }
    }

    @Test func concurrentWorkersTakeEachPairOnce() async throws {
        let ledger = try makeLedger(1_000)
        let queue = WorkQueue(ledger: ledger.lane(run: run, provider: .dynadot), chunkSize: 1, clock: TestClock(), pageSize: 64)
        let taken = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var mine: [Int] = []
                    while case .chunk(let chunk) = try await queue.next() {
                        mine += chunk.pairs.map(\.seq)
                        await Task.yield()
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(taken.count == 1_000)
        #expect(Set(taken).count == 1_000)
    }

    @Test func putBackChunksGoFirstAndPairsTakenMeanwhileAreNotReadAgain() async throws {
        let ledger = try makeLedger(300)
        let lane = ledger.lane(run: run, provider: .dynadot)
        let queue = WorkQueue(ledger: lane, chunkSize: 100, clock: TestClock(), pageSize: 100)
        guard case .chunk(let first) = try await queue.next() else { Issue.record("no first chunk"); return }
        // The lane sends the first chunk and puts it back as refused work (the ledger says pending again).
        let intent = try lane.beginSend(first.pairs.map(\.item.domain), now: Date())
        try lane.record(
            first.pairs.map { PairUpdate(domain: $0.item.domain, state: .pending, code: .refused, message: "refused") },
            settling: intent, as: .refused, now: Date())
        await queue.requeue(WorkChunk(pairs: first.pairs.map { $0.afterRefusal() }))
        let rest = try await drain(queue)
        #expect(rest.count == 3)
        #expect(rest[0].map(\.seq) == first.pairs.map(\.seq))
        #expect(rest[0].allSatisfy { $0.refusalsInARow == 1 })
        // Each pair once: the refused chunk came back through the queue only, not through the ledger cursor too.
        #expect(Set(rest.flatMap { $0.map(\.seq) }).count == 300)
    }
}
