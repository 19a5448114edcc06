import BoBatch
import Foundation

/// Progress on stderr: a live line on a terminal, a plain line every 10 s otherwise (cron mail stays short).
enum ProgressPrinter {
    static func run(job: SubmitJob) async {
        let interval: UInt64 = Terminal.isInteractive ? 500_000_000 : 10_000_000_000
        var printedLive = false
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: interval)
            if Task.isCancelled { break }
            let line = render(await job.progress(), now: SystemLaneClock().now())
            if Terminal.isInteractive {
                Terminal.overwrite(line)
                printedLive = true
            } else {
                Terminal.error(line)
            }
        }
        if printedLive { Terminal.overwrite("") }
    }

    static func render(_ lanes: [LaneProgress], now: Double) -> String {
        lanes.map { lane in
            let elapsed = max(0.001, now - lane.startedAt)
            let rate = Double(lane.doneThisInvocation) / elapsed
            let left = max(0, lane.total - lane.done)
            var text = "\(lane.provider.rawValue) \(lane.done)/\(lane.total)"
            if lane.halted { return text + " HALTED" }
            text += String(format: " %.1f/s", rate)
            if left > 0, rate > 0 { text += " ETA \(duration(Double(left) / rate))" }
            if left > 0, let pacer = lane.pacer, pacer.slowed || pacer.wait >= 1 { text += " " + slowdown(pacer) }
            return text
        }.joined(separator: " | ")
    }

    /// "(slowed to 40% after 3 refusals, resend in 0:12: DNSPod says the API is used too frequently…)"
    static func slowdown(_ pacer: PacerStatus) -> String {
        var parts: [String] = []
        if pacer.slowed {
            let share: Double = pacer.rate / pacer.ceiling * 100
            parts.append("slowed to " + String(max(1, Int(share.rounded()))) + "%" + (pacer.streak > 1 ? " after \(pacer.streak) refusals" : ""))
        }
        if pacer.wait >= 1 { parts.append("resend in \(duration(pacer.wait))") }
        var text = "(" + parts.joined(separator: ", ")
        if let reason = pacer.reason {
            let short: String = reason.count > 60 ? String(reason.prefix(59)) + "…" : reason
            text += ": " + short
        }
        return text + ")"
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

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
        var out = "\nrun '\(summary.run)': \(summary.input.domains) domains, \(summary.input.invalid) not domains (see invalid.tsv)\n"
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
        out += "results: \(summary.results)  (one .json per domain, summary.json)\n"
        if summary.resultFileErrors > 0 {
            out += "NOT WRITTEN: \(summary.resultFileErrors) result file(s), listed above; the ledger has their outcomes, a rerun writes them\n"
        }
        out += "exit \(summary.exitCode): \(summary.exitMeaning)\n"
        Terminal.error(out)
    }
}
