@testable import BoBatch
import Foundation
import Testing

/// report.html's content and its escaping: whatever a provider or an input says is shown as text, never run,
/// in the HTML table and in the SVG charts alike.
@Suite struct RunReportTests {
    static let hostile = "<script>alert('x')</script>"

    static func report(intents: [ReportIntent] = [], problems: [ReportProblem] = []) -> RunReport {
        RunReport(
            run: "night \(hostile)", summary: nil,
            counts: [.dynadot: [.accepted: 3, .rejected: 1], .yay: [.failed: 2, .pending: 1]],
            fates: [.dynadot: [.won: 1, .waiting: 2]],
            intents: intents, problems: problems, problemTotal: problems.count)
    }

    @Test func hostileTextIsEscapedInTableAndSVG() throws {
        let intents = [
            ReportIntent(provider: Self.hostile, domains: 2, createdAt: 1_000, settledAt: 1_000.3, outcome: .settled),
            ReportIntent(provider: Self.hostile, domains: 1, createdAt: 1_070, settledAt: 1_071, outcome: .refused),
        ]
        let problems = [ReportProblem(domain: "x\(Self.hostile).com", provider: "yay", state: .rejected, code: "\"><img src=x onerror=alert(1)>", message: Self.hostile)]
        let html = try Self.report(intents: intents, problems: problems).html()
        // The report's own search script is the only script element.
        #expect(html.components(separatedBy: "<script").count == 2)
        #expect(!html.contains("<img"))
        #expect(!html.contains("alert('x')"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        // SVG text and tooltips: the latency chart is titled and labelled by the provider's name.
        let svgs = html.components(separatedBy: "<svg").dropFirst().map { $0.components(separatedBy: "</svg>")[0] }
        #expect(svgs.contains { $0.contains("&lt;script&gt;") })
        #expect(svgs.allSatisfy { !$0.contains("<script") })
    }

    @Test func chartsAndTablesArePresent() throws {
        let html = try Self.report(problems: [ReportProblem(domain: "gone.com", provider: "yay", state: .failed, code: nil, message: "timeout")]).html()
        for id in ["chart-outcomes", "chart-throughput", "chart-failures", "chart-fates"] { #expect(html.contains("id=\"\(id)")) }
        #expect(html.contains("<td>gone.com</td><td>yay</td><td>failed</td>"))
        #expect(!html.contains("http://") || !html.contains("src=\"http"))
        #expect(!html.contains("<link"))
    }

    /// A long run of many requests draws at most maxTimeBins points a line.
    @Test func throughputIsBinned() throws {
        let intents = (0..<100_000).map { i in
            ReportIntent(provider: "gname", domains: 1, createdAt: Double(i) * 0.9, settledAt: Double(i) * 0.9 + 0.2, outcome: .settled)
        }
        let html = try Self.report(intents: intents).html()
        let polylines = html.components(separatedBy: "<polyline points=\"").dropFirst().map { $0.components(separatedBy: "\"")[0] }
        #expect(!polylines.isEmpty)
        for points in polylines { #expect(points.split(separator: " ").count <= RunReport.maxTimeBins + 1) }
        #expect(html.contains("100000 requests"))
    }

    /// A run of 25 seconds is drawn in 1-second bins, not as one flat minute; a steady lane stays level to the end
    /// (the last, partial bin is rated over the seconds it covers).
    @Test func aShortRunIsDrawnInSecondsAndASteadyLaneStaysLevel() throws {
        #expect(RunReport.timeBins(span: 25).seconds == 1)
        #expect(RunReport.timeBins(span: 25).count == 26)
        #expect(RunReport.timeBins(span: 0).count == 1)
        #expect(RunReport.timeBins(span: 86_400).seconds == 600)
        #expect(RunReport.timeBins(span: 30 * 86_400).count <= RunReport.maxTimeBins)
        // 10 requests a second for 25.3 s: 600 a minute in every bin.
        let intents = (0..<253).map { i in
            ReportIntent(provider: "gname", domains: 1, createdAt: 1_000 + Double(i) * 0.1, settledAt: 1_000 + Double(i) * 0.1 + 0.05, outcome: .settled)
        }
        let report = Self.report(intents: intents)
        let html = try report.html()
        #expect(html.contains("counted in 1 s bins"))
        let line = try #require(html.components(separatedBy: "<svg id=\"chart-throughput-requests\"")[1]
            .components(separatedBy: "<polyline points=\"").dropFirst().map { $0.components(separatedBy: "\"")[0] }.last)
        let ys = line.split(separator: " ").map { Double($0.split(separator: ",")[1])! }
        #expect(ys.count >= 20)
        // Every point at the peak's height (within a request a second's jitter of the bins' edges: a tenth of a row).
        let top = ys.min()!
        #expect(ys.allSatisfy { $0 - top < 5 }, "a steady lane drawn uneven: \(ys)")
    }

    /// The failure chart says how long refusals held their domains back, per provider.
    @Test func theWaitsRefusalsCausedAreTabled() throws {
        let intents = [
            ReportIntent(provider: "yay", domains: 1, createdAt: 1_000, settledAt: 1_000.1, outcome: .refused, wait: 1.5),
            ReportIntent(provider: "yay", domains: 1, createdAt: 1_001, settledAt: 1_001.1, outcome: .refused, wait: 40),
            ReportIntent(provider: "yay", domains: 1, createdAt: 1_042, settledAt: 1_042.1, outcome: .settled),
        ]
        let html = try Self.report(intents: intents).html()
        #expect(html.contains("<tr><td>yay</td><td class=\"n\">2</td><td class=\"n\">40 s</td><td class=\"n\">42 s</td></tr>"))
        let none = try Self.report(intents: [intents[2]]).html()
        #expect(!none.contains("refused requests"))
    }

    /// DNSPod places no backorder: its sends, never refreshed, are not drawn as orders waiting for a drop.
    @Test func dnspodSendsAreNotDrawnAsWaitingOrders() throws {
        var report = Self.report()
        report.fates = [.dnspod: [.waiting: 5]]
        #expect(!(try report.html()).contains("id=\"chart-fates\""))
        report.fates = [.dnspod: [.waiting: 5], .gname: [.won: 1]]
        let html = try report.html()
        #expect(html.contains("id=\"chart-fates\""))
        #expect(!html.contains("dnspod: 5 waiting"))
    }
}
