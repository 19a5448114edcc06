/// The exit codes a cron job can act on; documented in README.md and `bo-batch --help`.
public enum ExitStatus: Int32, Sendable, Codable, CaseIterable {
    /// Every pair accepted or already placed (or nothing to do).
    case success = 0
    /// Finished, but some pairs were rejected or skipped, or some input was not a domain.
    case someRejected = 1
    /// Usage or configuration error; nothing was sent.
    case usage = 2
    /// Incomplete: something is still pending or unknown. Rerun the same command to continue.
    case incomplete = 3
    /// A provider lane halted on an account-level error (credentials, funds, IP) and needs a person.
    case halted = 4
    /// Finished (as 0 or 1 would say), but some result files could not be written. Not 1, which a daily drop
    /// list almost always ends with, so it would go unnoticed; not 3, since a rerun cannot fix a full disk or a
    /// directory in the way, and a cron loop on 3 would never end.
    case resultFilesUnwritten = 5
    /// Another bo-batch run holds the state directory's lock.
    case locked = 75

    public var meaning: String {
        switch self {
        case .success: "every domain placed (accepted or already) at every provider"
        case .someRejected: "finished; some domains rejected or skipped, or some input invalid"
        case .usage: "usage or configuration error; nothing sent"
        case .incomplete: "incomplete; rerun the same command to continue"
        case .halted: "a provider lane halted on an account-level error; fix it, then rerun"
        case .resultFilesUnwritten: "finished, but some result files could not be written (result_file_errors in summary.json); fix the cause, then rerun to write them"
        case .locked: "another bo-batch run is using the same state directory"
        }
    }

    /// The status a run ends with, from what the ledger holds and whether a lane halted in this invocation.
    public static func of(counts: [ProviderID: [PairState: Int]], invalidInputs: Int, halted: Bool) -> ExitStatus {
        if halted { return .halted }
        let all = counts.values.reduce(into: [PairState: Int]()) { acc, c in acc.merge(c, uniquingKeysWith: +) }
        if [.pending, .sending, .unknown, .failed].contains(where: { (all[$0] ?? 0) > 0 }) { return .incomplete }
        if (all[.rejected] ?? 0) > 0 || (all[.skipped] ?? 0) > 0 || invalidInputs > 0 { return .someRejected }
        return .success
    }

    /// The status once the result files are written: a finished run (0 or 1) with files that could not be
    /// written becomes 5; 3 and 4 stay, as they already ask for a rerun or a person.
    public func afterWritingResults(failed: Int) -> ExitStatus {
        failed > 0 && (self == .success || self == .someRejected) ? .resultFilesUnwritten : self
    }
}
