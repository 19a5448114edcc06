import Foundation

/// What `summary.json` holds and the end-of-run screen shows.
public struct RunSummary: Sendable, Codable {
    public struct ProviderSummary: Sendable, Codable {
        /// Pairs per reported state (`accepted`, `already`, `rejected`, `failed`, `unknown`, `skipped`).
        public var states: [String: Int]
        /// Requests this invocation sent (creates, lookups, busy polls): 0 on a rerun with nothing left to do.
        public var creates: Int
        public var lookups: Int
        public var busyPolls: Int
        public var halted: String?
        public var fix: String?
        /// Creates this invocation that ended without verdicts, by class (``LaneReport/failures``); absent when none.
        public var failures: [String: Int]? = nil
    }

    public struct InputSummary: Sendable, Codable {
        public var files: [String]
        public var linesRead: Int
        public var domains: Int
        public var newDomains: Int
        public var duplicates: Int
        public var invalid: Int
        /// Leading title or timestamp lines skipped with a note (registry dumps start with one), not invalid.
        public var skippedTitleLines: Int = 0
        /// Input lines a filter left out of the run (`filtered.tsv`), in all and per reason (``FilterReason``):
        /// every invocation's latest reading of each file. These lines are counted neither as domains nor as
        /// duplicates.
        public var filtered: Int = 0
        public var filteredByReason: [String: Int] = [:]
        /// Distinct names `filtered.tsv` lists that the run holds all the same: read by an invocation before the
        /// filters were set (filters decide what enters a run, they never take out what is in it), or kept from
        /// another line of the input.
        public var filteredInRun: Int = 0
    }

    public var run: String
    public var started: Date
    public var finished: Date
    public var input: InputSummary
    public var providers: [String: ProviderSummary]
    public var requestsThisInvocation: Int
    public var exitCode: Int32
    public var exitMeaning: String
    public var results: String
    public var ledger: String
    /// Result files (a domain's, `invalid.tsv`, `summary.json`) this invocation could not write: how many, and
    /// the first ``FlushReport/listedFailures`` of them. The ledger holds their content; a rerun writes them.
    public var resultFileErrors: Int = 0
    public var unwrittenResultFiles: [ResultFileFailure] = []
    /// Placed orders per provider and fate (issue 11), once a `refresh` or `cancel` spoke about any: absent before,
    /// so a run never refreshed keeps its summary as it was.
    public var fates: [String: [String: Int]]? = nil
    /// When a provider was last asked what became of the run's orders.
    public var refreshed: Date? = nil
}
