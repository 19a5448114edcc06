import BoBatch
import Foundation

/// The one-screen summary at the end of a run.
enum SummaryPrinter {
    static let order = ["accepted", "already", "rejected", "skipped", "failed", "unknown"]

    /// Lines of unwritten result files printed one by one; the rest are counted (summary.json lists 100).
    static let listedFileErrors = 20

    static func print(_ summary: RunSummary, dryRun: Bool = false) {
        // Each file that could not be written, on a line of its own, whatever --quiet says: a missing file
        // must not go unnoticed.
        for failure in summary.unwrittenResultFiles.prefix(listedFileErrors) { Terminal.error("bo-batch: \(failure)") }
        if summary.resultFileErrors > listedFileErrors {
            Terminal.error("bo-batch: … and \(summary.resultFileErrors - listedFileErrors) more result files not written (summary.json lists the first \(FlushReport.listedFailures))")
        }
        var out = "\nrun '\(summary.run)': \(summary.input.domains) domains, \(summary.input.invalid) not domains\(summary.input.invalid > 0 ? " (see invalid.tsv)" : "")\n"
        if summary.input.skippedTitleLines > 0 {
            out += "  skipped: \(summary.input.skippedTitleLines) leading title or timestamp line(s), not domains\n"
        }
        out += FilterSummary.lines(summary.input)
        for name in summary.providers.keys.sorted() {
            let p = summary.providers[name]!
            let states = dryRun
                ? "\(p.states["unknown"] ?? 0) to send (dry run: nothing sent)"
                : order.compactMap { s in p.states[s].map { "\($0) \(s)" } }.joined(separator: ", ")
            out += "  \(name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(states.isEmpty ? "nothing to do" : states)"
            out += "  [requests this time: \(p.creates) creates, \(p.lookups) lookups\(p.busyPolls > 0 ? ", \(p.busyPolls) busy checks" : "")]\n"
            if let halted = p.halted {
                out += "           HALTED: \(halted)\n           fix: \(p.fix ?? "see the message above")\n"
            }
        }
        out += "results: \(summary.results)  (one .json per domain, summary.json; open report.html in a browser)\n"
        if summary.resultFileErrors > 0 {
            out += "NOT WRITTEN: \(summary.resultFileErrors) result file(s), listed above; the ledger has their outcomes, a rerun writes them\n"
        }
        out += "exit \(summary.exitCode): \(summary.exitMeaning)\n"
        Terminal.error(out)
    }
}
