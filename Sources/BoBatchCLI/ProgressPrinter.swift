import BoBatch
import Foundation

/// Progress on stderr: a live line on a terminal, a plain line every 10 s otherwise (cron mail stays short).
enum ProgressPrinter {
    static func run(job: SubmitJob) async {
        let interval: UInt64 = Terminal.isInteractive ? 500_000_000 : 10_000_000_000
        var drawn = 0
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: interval)
            if Task.isCancelled { break }
            let lanes = await job.progress()
            let now = SystemLaneClock().now()
            if Terminal.isInteractive {
                let block = renderBlock(lanes, now: now, width: Terminal.columns)
                Terminal.redraw(block, replacing: drawn)
                drawn = block.count
            } else {
                Terminal.error(render(lanes, now: now))
            }
        }
        // The summary follows in the same place: the live block goes.
        if drawn > 0 { Terminal.redraw([], replacing: drawn) }
    }

    /// The terminal display: one line per lane, redrawn in place, cut to the terminal's width (a wrapped line
    /// would break the redraw):
    ///
    ///     dynadot  [#############-------]   6,500/10,000  65%  812.3/s  ETA 0:04
    ///     dnspod   [#-------------------]     120/2,000    6%    0.1/s  ETA 5:13:20  waiting 0:40: DNSPod says too frequent…
    static func renderBlock(_ lanes: [LaneProgress], now: Double, width: Int) -> [String] {
        let totalWidth = lanes.map { grouped($0.total).count }.max() ?? 1
        return lanes.map { lane in
            let elapsed = max(0.001, now - lane.startedAt)
            let rate = Double(lane.doneThisInvocation) / elapsed
            let left = max(0, lane.total - lane.done)
            let share = lane.total == 0 ? 1 : Double(lane.done) / Double(lane.total)
            let filled = Int((share * 20).rounded(.down))
            var line = lane.provider.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            line += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled) + "] "
            let done = grouped(lane.done)
            line += String(repeating: " ", count: max(0, totalWidth - done.count)) + done + "/" + grouped(lane.total).padding(toLength: totalWidth, withPad: " ", startingAt: 0)
            line += String(format: " %3d%%", Int((share * 100).rounded(.down)))
            if lane.halted { return cut(line + "  HALTED: the summary says why and how to fix it", to: width) }
            line += String(format: " %8.1f/s", rate)
            if left > 0, rate > 0 { line += "  ETA \(duration(Double(left) / rate))" } else if left == 0 { line += "  done" }
            if left > 0, let pacer = lane.pacer, pacer.slowed || pacer.wait >= 1 { line += "  " + waiting(pacer) }
            return cut(line, to: width)
        }
    }

    /// "waiting 0:40: DNSPod says the API is used too frequently" (or "slowed to 40%: ..." between resends).
    static func waiting(_ pacer: PacerStatus) -> String {
        var text = pacer.wait >= 1 ? "waiting \(duration(pacer.wait))" : "slowed to \(max(1, Int((pacer.rate / pacer.ceiling * 100).rounded())))%"
        if let reason = pacer.reason { text += ": " + reason }
        return text
    }

    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return out
    }

    static func cut(_ line: String, to width: Int) -> String {
        line.count <= width ? line : String(line.prefix(max(1, width - 1))) + "…"
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
