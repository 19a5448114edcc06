import Foundation

extension SubmitJob {
    /// This invocation's plan, made after ``ingest(notice:)`` (filters, memory of earlier runs and settled pairs
    /// already applied) and before anything is sent: per provider what is left to send, the requests, the time at
    /// the pacing in force, and the money exposure from `prices`, checked against `caps`.
    ///
    /// Unless `dryRun` or a cap stops the run, the caps are then applied to the ledger: under `--cap-mode first`
    /// the pairs past a cap become `skipped` (code `cap`), and pairs an earlier invocation's cap skipped that this
    /// one allows are pending again. `plan.json` is written last, atomically, beside `summary.json`, by a dry run and
    /// by a run with a cap (whose decision it records); a plain run prints its plan only, so that its results
    /// directory holds what it always held. A failure to write it is returned (the run goes on; the summary counts
    /// it), a ledger failure is thrown.
    public func makeSendPlan(
        prices: [ProviderID: ProviderPrice], caps: Caps, dryRun: Bool, now: Date = Date()
    ) throws -> (outcome: PlanOutcome, unwritten: ResultFileFailure?) {
        let run = plan.run
        let tally = try ledger.planTally(run: run)
        let inputs = plan.lanes.map { setup in
            let id = setup.provider.id
            return ProviderPlanInput(
                provider: id, tally: tally[id] ?? [], batchSize: setup.provider.maxBatch, pacing: setup.settings.pacing,
                price: prices[id] ?? ProviderPrice(provider: id, kind: PriceList.kind(id), variable: PriceList.variable(id), amount: nil, currency: nil, scale: 2))
        }
        let ledger = self.ledger
        let outcome = try SpendPlanner.make(run: run, dryRun: dryRun, inputs: inputs, caps: caps, now: now) { id, after, limit in
            try ledger.planCandidates(run: run, provider: id, afterSeq: after, limit: limit)
        }
        if !dryRun, outcome.stoppedBy.isEmpty {
            for setup in plan.lanes {
                let id = setup.provider.id
                try ledger.applyCap(run: run, provider: id, keepThrough: outcome.keepThrough[id], reason: outcome.capReason[id] ?? "not sent: a cap was reached", now: now)
            }
        }
        guard dryRun || !caps.isEmpty else { return (outcome, nil) }
        do {
            try Self.writePlan(outcome.plan, directory: writer.directory)
            return (outcome, nil)
        } catch let failure as ResultFileFailure {
            return (outcome, failure)
        }
    }

    /// `plan.json`, written as every result file is: a temporary file renamed over it.
    static func writePlan(_ plan: SendPlan, directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let target = ResultDirectory(path: directory)
        defer { target.close() }
        try target.write(Array(try encoder.encode(plan)), to: "plan.json")
    }
}
