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
