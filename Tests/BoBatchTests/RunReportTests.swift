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
}
