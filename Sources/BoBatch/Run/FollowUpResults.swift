import Foundation

/// Projects what `refresh` and `cancel` recorded onto a run's results directory: the domain files whose fate
/// changed, and `summary.json` with the fate counts (``RunSummary/fates``) and when the refresh happened.
public enum FollowUpResults {
    /// Writes the run's due result files and updates its `summary.json`. A file that cannot be written is in the
    /// report (as for `submit`); only the ledger failing throws.
    public static func write(run: String, ledger: Ledger, directory: String) throws -> FlushReport {
        let writer = try ResultWriter(directory: directory, ledger: ledger, run: run)
        var files = try writer.flush()
        var summary = try existingSummary(directory) ?? fresh(run: run, ledger: ledger, directory: directory)
        try addFates(to: &summary, run: run, ledger: ledger)
        do {
            try writer.writeSummary(summary)
        } catch let failure as ResultFileFailure {
            files.record(failure)
        }
        // report.html shows the fates too: written again, and like any result file a failure is recorded, not thrown.
        do {
            try writer.writeReport(try RunReport.load(ledger: ledger, run: run, summary: summary).html())
        } catch let failure as ResultFileFailure {
            files.record(failure)
        } catch {
            files.record(ResultFileFailure(file: (directory as NSString).appendingPathComponent("report.html"), error: "cannot make the report: \(error)"))
        }
        return files
    }

    /// Fills ``RunSummary/fates`` and ``RunSummary/refreshed`` from the ledger, once any order has a fate: `submit`
    /// calls it too, so its summary keeps them.
    public static func addFates(to summary: inout RunSummary, run: String, ledger: Ledger) throws {
        guard let checked = try ledger.lastFateCheck(run: run) else { return }
        var fates: [String: [String: Int]] = [:]
        for (provider, counts) in try ledger.fateCounts(run: run) {
            fates[provider.rawValue] = Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
        }
        summary.fates = fates
        summary.refreshed = checked
    }

    /// The summary `submit` wrote, if it can be read.
    static func existingSummary(_ directory: String) throws -> RunSummary? {
        guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent("summary.json")) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(RunSummary.self, from: data)
    }

    /// A summary from the ledger alone, for a results directory without one (deleted, or another --out).
    static func fresh(run: String, ledger: Ledger, directory: String) throws -> RunSummary {
        let facts = try ledger.exitFacts(run: run, invocation: try ledger.lastInvocation(run: run) ?? InvocationFacts())
        var providers: [String: RunSummary.ProviderSummary] = [:]
        for (id, counts) in facts.counts {
            var states: [String: Int] = [:]
            for (state, n) in counts { states[state.reported, default: 0] += n }
            providers[id.rawValue] = RunSummary.ProviderSummary(states: states, creates: 0, lookups: 0, busyPolls: 0)
        }
        let domains = try ledger.domainCount(run: run)
        let now = Date()
        return RunSummary(
            run: run, started: now, finished: now,
            input: RunSummary.InputSummary(files: [], linesRead: 0, domains: domains, newDomains: 0, duplicates: 0, invalid: facts.invalidInputs),
            providers: providers, requestsThisInvocation: 0, exitCode: ExitStatus.decide(facts).rawValue, exitMeaning: ExitStatus.meaning(of: facts),
            results: directory, ledger: ledger.path)
    }
}
