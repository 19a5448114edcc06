import BoBatch
import Foundation

/// The plan on screen: one line per provider, then the totals; `plan.json` holds the rest.
enum PlanPrinter {
    /// `file`: where `plan.json` was written, if it was.
    static func lines(_ plan: SendPlan, file: String?) -> [String] {
        var out: [String] = []
        for p in plan.providers {
            var text = "plan: \(p.provider.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) "
            var extras: [String] = []
            if p.skippedByCap > 0 { extras.append("\(p.skippedByCap) skipped by a cap") }
            if p.toCheck > 0 { extras.append("\(p.toCheck) to look up first") }
            let settled = p.settled.values.reduce(0, +)
            if settled > 0 { extras.append("\(settled) settled before") }
            if p.toSend == 0 {
                text += "nothing to send" + (extras.isEmpty ? "" : " (\(extras.joined(separator: ", ")))")
            } else {
                text += "\(p.toSend) to send" + (extras.isEmpty ? "" : " (\(extras.joined(separator: ", ")))")
                let time = p.estimatedSeconds < 1 ? "under 1 s" : "≥ \(duration(p.estimatedSeconds))"
                text += ", \(p.requests) request\(p.requests == 1 ? "" : "s"), \(time) at \(p.pacing.threads) × \(p.pacing.perMinute.formatted(.number.precision(.fractionLength(0...1))))/min"
            }
            text += "; " + money(p.exposure)
            out.append(text)
        }
        var total: [String] = plan.totals.map { t in
            // Per currency, charged, frozen and paid-if-caught together: what the run puts at stake, not what is
            // charged now (each provider's line says which kind its share is).
            "up to \(t.thisInvocation) \(t.currency) at stake" + (t.runTotal == t.thisInvocation ? "" : " (\(t.runTotal) \(t.currency) with what earlier invocations of the run hold)")
        }
        if !plan.unknownPrices.isEmpty { total.append("unknown: set \(plan.unknownPrices.joined(separator: ", "))") }
        if !total.isEmpty { out.append("plan: money    " + total.joined(separator: "; ")) }
        if let file { out.append("plan: \(file)") }
        return out
    }

    static func money(_ e: SendPlan.Exposure) -> String {
        switch e.kind {
        case .none:
            return "nothing charged"
        case .chargedNow, .frozen, .paidIfCaught:
            let label = e.kind == .chargedNow ? "charged now" : e.kind == .frozen ? "frozen" : "paid only if caught"
            guard let this = e.thisInvocation, let per = e.perDomain else {
                return "\(label): unknown (set \(e.variable ?? "its price"))"
            }
            let currency = e.currency.map { " \($0)" } ?? " (currency unknown: add it to \(e.variable ?? "the price"))"
            return "\(label): up to \(this)\(currency) (\(per) a domain, \(e.variable ?? ""))"
        }
    }

    /// `< 1 s`, `42 s`, `3 min 20 s`, `2 h 5 min`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "< 1 s" }
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" + (s % 60 == 0 ? "" : " \(s % 60) s") }
        let minutes = s % 3600 / 60
        return "\(s / 3600) h" + (minutes == 0 ? "" : " \(minutes) min")
    }
}
