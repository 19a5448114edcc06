import Foundation

/// What to do, decided by the CLI from flags and environment.
public struct SubmitPlan: Sendable {
    public var run: String
    public var inputs: [String]
    public var inputOptions: InputOptions
    public var resultsDirectory: String
    /// How long an earlier run's placement keeps a domain from being sent again to the same provider.
    public var rememberDays: Int
    public var lanes: [LaneSetup]
    /// The `submit` filters (``DomainFilter``), nil when none is set: ingest then asks nothing per line.
    public var filter: DomainFilter?

    public init(run: String, inputs: [String], inputOptions: InputOptions, resultsDirectory: String, rememberDays: Int, lanes: [LaneSetup]) {
        self.run = run
        self.inputs = inputs
        self.inputOptions = inputOptions
        self.resultsDirectory = resultsDirectory
        self.rememberDays = rememberDays
        self.lanes = lanes
    }
}

/// A problem with one input, reported and then left behind: the rest of the run goes on.
public struct InputNotice: Sendable {
    public var message: String
}

/// One `submit`: read and record the input, run one lane per provider, project results, summarize.
public final class SubmitJob: Sendable {
    public let plan: SubmitPlan
    public let ledger: Ledger
    let lanes: [Lane]
    let writer: ResultWriter
    public let started = Date()

    public init(plan: SubmitPlan, ledger: Ledger, clock: any LaneClock = SystemLaneClock()) throws {
        self.plan = plan
        self.ledger = ledger
        // A run's only lane hands what it records to the writer, which then need not read it back (ResultFeed).
        let feed = plan.lanes.count == 1 ? ResultFeed(provider: plan.lanes[0].provider.id) : nil
        lanes = plan.lanes.map { Lane(run: plan.run, provider: $0.provider, ledger: ledger, settings: $0.settings, clock: clock, feed: feed) }
        writer = try ResultWriter(directory: plan.resultsDirectory, ledger: ledger, run: plan.run, feed: feed)
    }

    /// Streams every input into the ledger, in one ledger transaction (see ``Ledger/ingestInput(run:_:)``).
    /// File-level problems (missing, a directory, binary) come back as notices; line-level ones go to `invalid.tsv`.
    public func ingest(notice: @Sendable (InputNotice) -> Void) throws -> RunSummary.InputSummary {
        try ledger.openRun(plan.run)
        var summary = RunSummary.InputSummary(files: plan.inputs, linesRead: 0, domains: 0, newDomains: 0, duplicates: 0, invalid: 0)
        var read = 0
        let tally = try ledger.ingestInput(run: plan.run) { sink in
            // invalid.tsv says what is wrong with the latest reading of each file (a zip member: when it is read).
            for path in plan.inputs { try sink.clearInvalid(file: path == "-" ? "stdin" : path) }
            // One input per file, or per member of a zip archive (ListInputs: compressed lists are read streamed).
            for input in ListInputs(paths: plan.inputs, options: plan.inputOptions) {
                try sink.clearInvalid(file: input.name)
                let reader: DomainListReader
                do {
                    guard let opened = try input.open(note: { notice(InputNotice(message: $0)) }) else { continue }
                    reader = opened
                } catch let error as InputFileError {
                    notice(InputNotice(message: error.description))
                    try sink.invalid(file: input.name, line: 0, text: "", reason: error.message)
                    summary.invalid += 1
                    continue
                }
                if let title = reader.skippedTitle { notice(InputNotice(message: title.notice)); summary.skippedTitleLines += 1 }
                // filtered.tsv lists what the latest reading of each file left out (see IngestSink.clearFiltered).
                try sink.clearFiltered(file: input.name)
                do {
                    while let item = try reader.next() {
                        summary.linesRead += 1
                        switch item {
                        case .domain(let text, let location, let attributes):
                            let name: DomainName
                            do {
                                name = try DomainName(normalizing: text)
                            } catch let error as DomainNameError {
                                summary.invalid += 1
                                try sink.invalid(file: location.file, line: location.line, text: text, reason: error.reason)
                                continue
                            }
                            // Filters see each line before duplicates are sorted out: a filtered line is counted
                            // as filtered, never as a duplicate, and never enters the run.
                            if let filter = plan.filter, let reason = filter.reason(for: name, attributes: attributes) {
                                summary.filtered += 1
                                summary.filteredByReason[reason.rawValue, default: 0] += 1
                                try sink.filtered(file: location.file, line: location.line, domain: name.ascii, reason: reason.rawValue)
                                continue
                            }
                            read += 1
                            try sink.add(domain: name, input: text, file: location.file, line: location.line, attributes: attributes)
                        case .problem(let location, let text, let reason):
                            summary.invalid += 1
                            try sink.invalid(file: location.file, line: location.line, text: text, reason: reason)
                        }
                    }
                } catch let error as InputFileError {
                    // A list that breaks off midway (a cut-short download, a damaged archive) keeps the lines read
                    // before the break, and is recorded like a file that cannot be opened: listed in invalid.tsv
                    // and counted, so a cron job sees exit 1 rather than a quiet success on half a list.
                    notice(InputNotice(message: error.description))
                    try sink.invalid(file: input.name, line: 0, text: "", reason: error.message)
                    summary.invalid += 1
                }
            }
        }
        summary.newDomains = tally.new
        summary.duplicates = read - tally.distinct
        summary.domains = try ledger.domainCount(run: plan.run)
        let since = Date().addingTimeInterval(-Double(plan.rememberDays) * 86_400)
        try ledger.preparePairs(run: plan.run, providers: plan.lanes.map(\.provider.id), rememberSince: since)
        return summary
    }

    /// Runs every lane to its end, concurrently; every 2 s or so writes the result files of the domains that moved
    /// (``ResultWriter/flush(maxFiles:movedOnly:)``), so a long run shows its outcomes as they come, and each
    /// file is written about once: a domain still waiting is left to the final flush in ``finish``.
    public func runLanes() async throws -> [LaneReport] {
        let flusher = PeriodicFlusher(writer: writer)
        defer { flusher.stop() }
        // Lanes end by cancellation (a signal) or by running out of work; either way the final flush follows.
        return try await withThrowingTaskGroup(of: LaneReport.self) { group in
            for lane in lanes { group.addTask { try await lane.run() } }
            var reports: [LaneReport] = []
            for try await report in group { reports.append(report) }
            return reports.sorted { $0.provider < $1.provider }
        }
    }

    /// Each lane's report as it stands, for when `runLanes` ended by throwing (a cancellation) instead of
    /// returning them: a halt already met must still make the run's exit 4.
    public func reportsSoFar() async -> [LaneReport] {
        var out: [LaneReport] = []
        for lane in lanes { out.append(await lane.reportSoFar()) }
        return out
    }

    public func progress() async -> [LaneProgress] {
        var out: [LaneProgress] = []
        for lane in lanes { out.append(await lane.progress()) }
        return out
    }

    /// Writes every changed result file, `invalid.tsv` and `summary.json`; returns the summary, whose exit code
    /// (``ExitStatus/decide(_:)``'s) is the one `summary.json` holds and the process must exit with.
    /// With `dryRun`, nothing was sent: no domain files are written and the exit status only reflects the input.
    /// `interrupted`: a signal stopped the lanes before they ran out of work. `capStopped`: a cap stopped the run
    /// before anything was sent (exit 2; see ``makeSendPlan(prices:caps:dryRun:now:)``). `unwritten`: files written
    /// earlier in this invocation that failed (`plan.json`).
    /// A file that cannot be written is recorded in the summary (and `summary.json`, if that one can be written)
    /// and the rest are written all the same; only the ledger failing makes this throw.
    public func finish(
        input: RunSummary.InputSummary, reports: [LaneReport], dryRun: Bool = false, interrupted: Bool = false, capStopped: Bool = false,
        unwritten: [ResultFileFailure] = []
    ) throws -> RunSummary {
        var files = FlushReport()
        if !dryRun { files = try writer.flush() }
        for failure in unwritten { files.record(failure) }
        do {
            _ = try writer.writeInvalid()
        } catch let failure as ResultFileFailure {
            files.record(failure)
        }
        do {
            try writer.writeFiltered()
        } catch let failure as ResultFileFailure {
            files.record(failure)
        }
        let halted = reports.filter { $0.halt != nil }.map(\.provider)
        var facts = try ledger.exitFacts(
            run: plan.run,
            invocation: InvocationFacts(dryRun: dryRun, haltedLanes: halted, interrupted: interrupted, unwrittenResultFiles: files.failed, capStopped: capStopped))
        let counts = facts.counts
        let invalid = facts.invalidInputs
        var providers: [String: RunSummary.ProviderSummary] = [:]
        for setup in plan.lanes {
            let id = setup.provider.id
            var states: [String: Int] = [:]
            for (state, n) in counts[id] ?? [:] { states[state.reported, default: 0] += n }
            let report = reports.first { $0.provider == id }
            providers[id.rawValue] = RunSummary.ProviderSummary(
                states: states, creates: report?.creates ?? 0, lookups: report?.lookups ?? 0, busyPolls: report?.busyPolls ?? 0,
                halted: report?.halt?.reason, fix: report?.halt?.fix, failures: report.flatMap { $0.failures.isEmpty ? nil : $0.failures })
        }
        var inputSummary = input
        inputSummary.invalid = invalid
        let filtered = try ledger.filteredCounts(run: plan.run)
        inputSummary.filteredByReason = filtered.byReason
        inputSummary.filtered = filtered.byReason.values.reduce(0, +)
        inputSummary.filteredInRun = filtered.inRun
        var summary = RunSummary(
            run: plan.run, started: started, finished: Date(), input: inputSummary, providers: providers,
            requestsThisInvocation: providers.values.reduce(0) { $0 + $1.creates + $1.lookups + $1.busyPolls },
            exitCode: ExitStatus.decide(facts).rawValue, exitMeaning: ExitStatus.meaning(of: facts), results: writer.directory, ledger: ledger.path,
            resultFileErrors: files.failed, unwrittenResultFiles: files.failures)
        // What `refresh`/`cancel` found out, kept when a rerun of submit rewrites the summary.
        try FollowUpResults.addFates(to: &summary, run: plan.run, ledger: ledger)
        // report.html (issue 12): a failure is an unwritten result file like any other, never a crash.
        if let failure = writeReport(summary: summary) {
            files.record(failure)
            facts.invocation.unwrittenResultFiles = files.failed
            summary.resultFileErrors = files.failed
            summary.unwrittenResultFiles = files.failures
            summary.exitCode = ExitStatus.decide(facts).rawValue
            summary.exitMeaning = ExitStatus.meaning(of: facts)
        }
        do {
            try writer.writeSummary(summary)
        } catch let failure as ResultFileFailure {
            // Nowhere left to record it but the summary the caller prints.
            files.record(failure)
            facts.invocation.unwrittenResultFiles = files.failed
            summary.resultFileErrors = files.failed
            summary.unwrittenResultFiles = files.failures
            summary.exitCode = ExitStatus.decide(facts).rawValue
            summary.exitMeaning = ExitStatus.meaning(of: facts)
        }
        // For `bo-batch status`, which must say the code this invocation exits with.
        try ledger.recordLastInvocation(run: plan.run, facts.invocation)
        return summary
    }
}
