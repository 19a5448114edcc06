import Foundation

/// What `--metrics-file` writes: the Prometheus text exposition format (version 0.0.4), for node_exporter's
/// textfile collector, replaced atomically (temporary file + rename in the same folder) so the collector never
/// reads half a file. Written every minute during a run (`bo_batch_in_progress 1`) and once at the end.
///
/// Every sample carries `run`; per-provider ones `provider`. Values are this invocation's (requests, failures,
/// duration) or the ledger's as it stands (pairs, fates). `bo_batch_last_success_timestamp_seconds` is when an
/// invocation last finished with 0 or 1 (a normal night: everything placed, or some names refused): kept from the
/// previous file when this one did not, so an alert on its age fires after nights that failed.
public struct MetricsSnapshot: Sendable {
    public var run: String
    /// Pairs per provider and reported state (`PairState.reported`).
    public var states: [ProviderID: [String: Int]]
    public var fates: [ProviderID: [Fate: Int]]
    public var reports: [LaneReport]
    public var started: Date
    public var now: Date
    /// nil while the run is under way.
    public var exitCode: Int32?

    public init(run: String, states: [ProviderID: [String: Int]], fates: [ProviderID: [Fate: Int]], reports: [LaneReport],
                started: Date, now: Date = Date(), exitCode: Int32?) {
        self.run = run
        self.states = states
        self.fates = fates
        self.reports = reports
        self.started = started
        self.now = now
        self.exitCode = exitCode
    }

    /// The ledger's counts for `run` now, with the lanes' reports so far.
    public static func current(ledger: Ledger, run: String, reports: [LaneReport], started: Date, exitCode: Int32?) throws -> MetricsSnapshot {
        var states: [ProviderID: [String: Int]] = [:]
        for (provider, counts) in try ledger.stateCounts(run: run) {
            for (state, n) in counts { states[provider, default: [:]][state.reported, default: 0] += n }
        }
        return MetricsSnapshot(run: run, states: states, fates: try ledger.fateCounts(run: run), reports: reports, started: started, exitCode: exitCode)
    }
}

public enum MetricsFile {
    /// The file's text. `lastSuccess`: the previous file's success time, used when this snapshot is not one.
    public static func render(_ snapshot: MetricsSnapshot, lastSuccess: Double? = nil) -> String {
        var out = ""
        let run = "run=\(label(snapshot.run))"
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name){\(sample.labels)} \(sample.value)\n" }
        }
        func providerLabels(_ provider: ProviderID, _ extra: String = "") -> String {
            "\(run),provider=\(label(provider.rawValue))\(extra)"
        }

        family("bo_batch_pairs", "gauge", "Pairs of the run per provider and state, as the ledger holds them.",
               snapshot.states.keys.sorted().flatMap { p in
                   snapshot.states[p]!.sorted { $0.key < $1.key }.map { (providerLabels(p, ",state=\(label($0.key))"), "\($0.value)") }
               })
        family("bo_batch_fates", "gauge", "Placed orders of the run per provider and fate (waiting until refreshed).",
               snapshot.fates.keys.sorted().flatMap { p in
                   snapshot.fates[p]!.sorted { $0.key < $1.key }.map { (providerLabels(p, ",fate=\(label($0.key.rawValue))"), "\($0.value)") }
               })
        let reports = snapshot.reports.sorted { $0.provider < $1.provider }
        family("bo_batch_requests", "gauge", "Requests this invocation sent, per provider and kind.",
               reports.flatMap { r in
                   [("create", r.creates), ("lookup", r.lookups), ("busy_poll", r.busyPolls)].map { (providerLabels(r.provider, ",kind=\(label($0.0))"), "\($0.1)") }
               })
        family("bo_batch_failures", "gauge",
               "Creates this invocation that ended without verdicts, per provider and class (refused: nothing done; maybe_processed; batch_failed; account: the lane halted).",
               reports.flatMap { r in
                   ["refused", "maybe_processed", "batch_failed", "account"].map { (providerLabels(r.provider, ",class=\(label($0))"), "\(r.failures[$0] ?? 0)") }
               })
        family("bo_batch_lane_halted", "gauge", "1 when the provider's lane halted on an account-level error in this invocation.",
               reports.map { (providerLabels($0.provider), $0.halt == nil ? "0" : "1") })
        family("bo_batch_in_progress", "gauge", "1 while the invocation runs, 0 once it ended.",
               [(run, snapshot.exitCode == nil ? "1" : "0")])
        family("bo_batch_duration_seconds", "gauge", "Time since the invocation started (its whole length once it ended).",
               [(run, number(snapshot.now.timeIntervalSince(snapshot.started)))])
        family("bo_batch_start_timestamp_seconds", "gauge", "When the invocation started (Unix time).",
               [(run, number(snapshot.started.timeIntervalSince1970))])
        if let code = snapshot.exitCode {
            family("bo_batch_exit_code", "gauge", "The exit code of the invocation (README, Exit codes).", [(run, "\(code)")])
        }
        let succeeded = snapshot.exitCode.map { $0 == ExitStatus.success.rawValue || $0 == ExitStatus.someRejected.rawValue } ?? false
        if let success = succeeded ? snapshot.now.timeIntervalSince1970 : lastSuccess {
            family("bo_batch_last_success_timestamp_seconds", "gauge", "When an invocation of the run last finished with exit 0 or 1 (Unix time).",
                   [(run, number(success))])
        }
        return out
    }

    /// Writes `snapshot` to `path` atomically, carrying the last success time over from the file it replaces.
    public static func write(_ snapshot: MetricsSnapshot, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let previous = (try? String(contentsOf: url, encoding: .utf8)).flatMap(lastSuccess(in:))
        let text = render(snapshot, lastSuccess: previous)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        try Data(text.utf8).write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot replace \(path): \(reason)"])
        }
    }

    /// The success time a file of ours holds, if any.
    static func lastSuccess(in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("bo_batch_last_success_timestamp_seconds{") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    /// A label value, quoted and escaped as the format asks (backslash, double quote, newline).
    static func label(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }

    static func number(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}
