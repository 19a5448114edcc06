import Foundation
import Mustache

/// `report.html`: what a person reads the morning after a run. One self-contained file (no network, no external
/// script, font or style sheet: it is opened from a mail attachment or a server without internet), its tables
/// readable without JavaScript, its charts inline SVG drawn here.
///
/// Everything goes through one Mustache template whose `{{value}}` tags HTML-escape what they insert (`<`, `>`,
/// `&`, `"`, `'`), in text and in attribute values alike, SVG included: a domain or a provider's message that
/// holds `<script>` is shown as text, never run. The only `{{{raw}}}` tag is none: nothing is inserted unescaped.
///
/// Its cost stays small for big runs: the charts bin what they draw (at most ``maxTimeBins`` points a lane, fixed
/// latency buckets), and the table lists only the pairs that did not end placed, at most ``maxProblemRows``.
public struct RunReport: Sendable {
    /// Time bins a throughput line draws at most: longer runs use wider bins (rates stay per minute).
    public static let maxTimeBins = 240
    /// Rows the problem table lists at most; the report says how many more there are.
    public static let maxProblemRows = 20_000
    /// Of those, never-sent pairs (a dry run, a halted lane) listed at most: they all say the same.
    public static let maxNeverSentRows = 1_000

    public var run: String
    public var generated: Date
    public var summary: RunSummary?
    public var counts: [ProviderID: [PairState: Int]]
    public var fates: [ProviderID: [Fate: Int]]
    public var intents: [ReportIntent]
    public var problems: [ReportProblem]
    public var problemTotal: Int

    public init(
        run: String, generated: Date = Date(), summary: RunSummary?, counts: [ProviderID: [PairState: Int]], fates: [ProviderID: [Fate: Int]],
        intents: [ReportIntent], problems: [ReportProblem], problemTotal: Int
    ) {
        self.run = run
        self.generated = generated
        self.summary = summary
        self.counts = counts
        self.fates = fates
        self.intents = intents
        self.problems = problems
        self.problemTotal = problemTotal
    }

    /// Reads what the report shows from the ledger.
    public static func load(ledger: Ledger, run: String, summary: RunSummary?, now: Date = Date()) throws -> RunReport {
        let problems = try ledger.reportProblems(run: run, limit: maxProblemRows, pendingLimit: maxNeverSentRows)
        return RunReport(
            run: run, generated: now, summary: summary, counts: try ledger.stateCounts(run: run), fates: try ledger.fateCounts(run: run),
            intents: try ledger.reportIntents(run: run), problems: problems.rows, problemTotal: problems.total)
    }

    // MARK: rendering

    public func html() throws -> String {
        let template = try MustacheTemplate(string: Self.template)
        return template.render(context())
    }

    /// The reported states in the order bars stack them, with their colours.
    static let stateStyle: [(name: String, color: String)] = [
        ("accepted", "#2e7d32"), ("already", "#66bb6a"), ("rejected", "#c62828"), ("failed", "#ef6c00"),
        ("unknown", "#6a1b9a"), ("skipped", "#9e9e9e"), ("pending", "#bdbdbd"),
    ]
    static let classStyle: [(outcome: IntentOutcome, label: String, color: String)] = [
        (.refused, "refused", "#ef6c00"), (.unclear, "maybe processed", "#6a1b9a"), (.batchFailed, "batch failed", "#c62828"), (.halt, "account / halted", "#37474f"),
    ]
    static let fateStyle: [(fate: Fate, color: String)] = [
        (.won, "#2e7d32"), (.inAuction, "#f9a825"), (.lost, "#c62828"), (.redeemed, "#8d6e63"), (.cancelled, "#9e9e9e"),
        (.gone, "#616161"), (.unknown, "#6a1b9a"), (.waiting, "#90caf9"),
    ]
    static let laneColors = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f"]
    /// Latency buckets' upper bounds, seconds (the last is open).
    static let latencyBounds: [Double] = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30]

    func reportedCounts() -> [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for (provider, states) in counts {
            for (state, n) in states {
                let name = state == .pending ? "pending" : state.reported
                out[provider.rawValue, default: [:]][name, default: 0] += n
            }
        }
        return out
    }

    func context() -> [String: Any] {
        let iso = Date.ISO8601FormatStyle()
        var ctx: [String: Any] = ["run": run, "generated": generated.formatted(iso)]
        if let s = summary {
            ctx["summary"] = [
                "started": s.started.formatted(iso), "finished": s.finished.formatted(iso), "exitCode": String(s.exitCode), "exitMeaning": s.exitMeaning,
                "domains": String(s.input.domains), "invalid": String(s.input.invalid), "duplicates": String(s.input.duplicates),
                "requests": String(s.requestsThisInvocation),
                "filtered": s.input.filtered > 0
                    ? "\(s.input.filtered) lines filtered out (" + s.input.filteredByReason.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                        .map { "\($0.value) \($0.key)" }.joined(separator: ", ") + "; listed in filtered.tsv)." : "",
                "halts": s.providers.keys.sorted().compactMap { p -> [String: String]? in
                    guard let h = s.providers[p]?.halted else { return nil }
                    return ["provider": p, "reason": h, "fix": s.providers[p]?.fix ?? ""]
                },
            ] as [String: Any]
        }
        let reported = reportedCounts()
        let providers = reported.keys.sorted()
        // The table of counts, readable without the chart.
        ctx["countHeader"] = Self.stateStyle.map { ["name": $0.name] }
        ctx["countRows"] = providers.map { p in
            ["provider": p, "cells": Self.stateStyle.map { ["n": String(reported[p]?[$0.name] ?? 0)] }] as [String: Any]
        }
        var charts: [[String: Any]] = []
        charts.append(Self.stackedBars(
            id: "chart-outcomes", title: "Outcomes per provider", caption: "Pairs per provider by state, as the ledger stands.",
            rows: providers.map { p in Bar(label: p, parts: Self.stateStyle.map { Part(name: $0.name, n: reported[p]?[$0.name] ?? 0, color: $0.color) }) }))
        charts.append(contentsOf: throughputCharts())
        charts.append(contentsOf: latencyCharts())
        charts.append(failureChart())
        // DNSPod places no backorder: its sends never refreshed are not orders waiting for a drop (as `status` says).
        let fateProviders = fates.keys.sorted().filter { p in !(p == .dnspod && (fates[p] ?? [:]).keys.allSatisfy { $0 == .waiting }) }
        if !fateProviders.isEmpty {
            charts.append(Self.stackedBars(
                id: "chart-fates", title: "Fates of the placed orders", caption: "What became of the placed orders (an order never refreshed counts as waiting).",
                rows: fateProviders.map { p in
                    let c = fates[p] ?? [:]
                    return Bar(label: p.rawValue, parts: Self.fateStyle.map { Part(name: $0.fate.rawValue, n: c[$0.fate] ?? 0, color: $0.color) })
                }))
        }
        ctx["charts"] = charts
        ctx["problems"] = problems.map { p in
            ["domain": p.domain, "provider": p.provider, "state": p.state == .pending ? "pending" : p.state.reported, "code": p.code ?? "", "message": p.message]
        }
        ctx["problemCount"] = String(problemTotal)
        ctx["hasProblems"] = !problems.isEmpty
        if problemTotal > problems.count {
            ctx["problemsCut"] = "The first \(problems.count) of \(problemTotal) are listed; every domain's result file has the rest."
        }
        return ctx
    }

    // MARK: charts

    /// Horizontal stacked bars, one per row, scaled to the largest row's total; a legend under them.
    /// One part of a stacked bar, and one bar.
    struct Part { var name: String; var n: Int; var color: String }
    struct Bar { var label: String; var parts: [Part] }

    static func stackedBars(id: String, title: String, caption: String, rows: [Bar]) -> [String: Any] {
        let left = 80.0, width = 640.0, barH = 22.0, gap = 10.0, top = 10.0
        let maxTotal = max(1, rows.map { $0.parts.reduce(0) { $0 + $1.n } }.max() ?? 1)
        var rects: [[String: String]] = []
        var texts: [[String: String]] = []
        for (i, row) in rows.enumerated() {
            let y = top + Double(i) * (barH + gap)
            texts.append(Self.text(x: left - 6, y: y + barH * 0.7, row.label, anchor: "end"))
            var x = left
            for part in row.parts where part.n > 0 {
                let w = max(1, (width - left - 60) * Double(part.n) / Double(maxTotal))
                rects.append(Self.rect(x: x, y: y, w: w, h: barH, fill: part.color, tip: "\(row.label): \(part.n) \(part.name)"))
                x += w
            }
            texts.append(Self.text(x: x + 4, y: y + barH * 0.7, String(row.parts.reduce(0) { $0 + $1.n }), anchor: "start"))
        }
        let legendY = top + Double(rows.count) * (barH + gap) + 6
        var lx = left
        for part in rows.first?.parts ?? [] {
            rects.append(Self.rect(x: lx, y: legendY, w: 10, h: 10, fill: part.color, tip: part.name))
            texts.append(Self.text(x: lx + 14, y: legendY + 9, part.name, anchor: "start"))
            lx += 24 + Double(part.name.count) * 6.5
        }
        return chart(id: id, title: title, caption: caption, width: width, height: legendY + 20, rects: rects, texts: texts, lines: [])
    }

    /// Requests and domains per minute per lane over the run, from the intents' times (binned: at most
    /// ``maxTimeBins`` points a line).
    func throughputCharts() -> [[String: Any]] {
        guard let first = intents.map(\.createdAt).min(), let last = intents.map(\.createdAt).max() else {
            return [Self.chart(id: "chart-throughput", title: "Throughput per lane", caption: "No request was sent in this run.", width: 640, height: 30, rects: [], texts: [Self.text(x: 10, y: 20, "no requests", anchor: "start")], lines: [])]
        }
        let (binSeconds, bins) = Self.timeBins(span: last - first)
        // The last bin covers only what is left of the run: a short remainder joins the bin before it, and each
        // bin's rate is over the seconds it covers, so the line does not fall at the end because the run did.
        let merged = bins > 1 && (last - first) - Double(bins - 1) * binSeconds < binSeconds / 2
        let drawn = merged ? bins - 1 : bins
        var covered = Array(repeating: binSeconds, count: drawn)
        covered[drawn - 1] = max(1, (last - first) - Double(drawn - 1) * binSeconds)
        if drawn == 1 { covered[0] = max(binSeconds, last - first) }
        var requests: [String: [Double]] = [:]
        var domains: [String: [Double]] = [:]
        for i in intents {
            let b = min(drawn - 1, Int((i.createdAt - first) / binSeconds))
            requests[i.provider, default: Array(repeating: 0, count: drawn)][b] += 1
            domains[i.provider, default: Array(repeating: 0, count: drawn)][b] += Double(i.domains)
        }
        let lanes = requests.keys.sorted()
        var out: [[String: Any]] = []
        // One row per lane, each scaled to its own peak (small multiples): a lane that sent its 600 requests in
        // one second would otherwise flatten every other lane to the axis.
        for (kind, series) in [("requests", requests), ("domains", domains)] {
            let left = 80.0, right = 600.0, top = 8.0, rowH = 40.0, gap = 12.0
            let perMinute = series.mapValues { $0.enumerated().map { j, n in n * 60 / covered[j] } }
            var lines: [[String: String]] = []
            var texts: [[String: String]] = []
            for (n, lane) in lanes.enumerated() {
                let bottom = top + Double(n) * (rowH + gap) + rowH
                var values = perMinute[lane] ?? []
                let peak = max(1, values.max() ?? 1)
                // One bin draws a flat line across the chart rather than a point nobody sees.
                if values.count == 1 { values.append(values[0]) }
                let step = (right - left) / Double(max(1, values.count - 1))
                let points = values.enumerated().map { j, v in
                    "\(Self.fmt(left + Double(j) * step)),\(Self.fmt(bottom - rowH * v / peak))"
                }.joined(separator: " ")
                let color = Self.laneColors[n % Self.laneColors.count]
                lines.append(["points": "\(left),\(bottom - rowH) \(left),\(bottom) \(right),\(bottom)", "stroke": "#bbb"])
                lines.append(["points": points, "stroke": color])
                texts.append(Self.text(x: left - 6, y: bottom - rowH / 2 + 4, lane, anchor: "end", fill: color))
                texts.append(Self.text(x: right + 6, y: bottom - rowH + 9, "peak " + Self.number(peak) + "/min", anchor: "start"))
            }
            let axis = top + Double(lanes.count) * (rowH + gap) - gap
            texts.append(Self.text(x: left, y: axis + 16, Date(timeIntervalSince1970: first).formatted(Date.ISO8601FormatStyle()), anchor: "start"))
            texts.append(Self.text(x: right, y: axis + 16, "+" + Self.span(max(last - first, 1)), anchor: "end"))
            out.append(Self.chart(
                id: "chart-throughput-\(kind)", title: "Throughput per lane: \(kind) per minute",
                caption: "\(kind.capitalized) sent per minute by each lane, from the ledger's intent times, counted in \(Self.span(binSeconds)) bins; each lane drawn to its own peak.",
                width: 720, height: axis + 24, rects: [], texts: texts, lines: lines))
        }
        return out
    }

    /// Bin widths a throughput line may use, seconds: the narrowest that keeps a line within ``maxTimeBins``
    /// points and gives a run of a few seconds at least a few points (a 20-second run is twenty 1-second bins, a
    /// day is 144 ten-minute bins).
    static let binWidths: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400]

    /// The bin width for a run whose intents span `span` seconds, and how many bins that makes (at least one).
    static func timeBins(span: Double) -> (seconds: Double, count: Int) {
        let width = binWidths.first { (span / $0).rounded(.down) + 1 <= Double(maxTimeBins) } ?? (span / Double(maxTimeBins - 1)).rounded(.up)
        return (width, max(1, Int((span / width).rounded(.down)) + 1))
    }

    /// "45 s", "6 min", "2 h" for a bin width or a chart's span.
    static func span(_ seconds: Double) -> String {
        if seconds < 60 { return "\(Int(seconds.rounded())) s" }
        if seconds < 3600 { return "\(number(seconds / 60)) min" }
        return "\(number(seconds / 3600)) h"
    }

    /// How long each provider took to answer a create (intent committed to answer recorded), in fixed buckets.
    func latencyCharts() -> [[String: Any]] {
        var byProvider: [String: [Double]] = [:]
        for i in intents {
            guard let settled = i.settledAt else { continue }
            byProvider[i.provider, default: []].append(max(0, settled - i.createdAt))
        }
        let labels = Self.latencyBounds.map { "<" + Self.duration($0) } + ["≥" + Self.duration(Self.latencyBounds.last!)]
        var out: [[String: Any]] = []
        for provider in byProvider.keys.sorted() {
            let times = byProvider[provider]!.sorted()
            var buckets = Array(repeating: 0, count: labels.count)
            for t in times { buckets[Self.latencyBounds.firstIndex { t < $0 } ?? Self.latencyBounds.count] += 1 }
            let left = 40.0, top = 22.0, bottom = 142.0, barW = 52.0
            let peak = max(1, buckets.max() ?? 1)
            var rects: [[String: String]] = []
            var texts: [[String: String]] = []
            for (j, n) in buckets.enumerated() {
                let x = left + Double(j) * (barW + 6)
                let h = (bottom - top) * Double(n) / Double(peak)
                rects.append(Self.rect(x: x, y: bottom - h, w: barW, h: max(h, n > 0 ? 1 : 0), fill: "#1565c0", tip: "\(provider) \(labels[j]): \(n)"))
                texts.append(Self.text(x: x + barW / 2, y: bottom + 14, labels[j], anchor: "middle"))
                if n > 0 { texts.append(Self.text(x: x + barW / 2, y: bottom - h - 3, String(n), anchor: "middle")) }
            }
            let p = { (q: Double) in times[min(times.count - 1, Int(Double(times.count) * q))] }
            out.append(Self.chart(
                id: "chart-latency-\(provider)", title: "Latency: \(provider)",
                caption: "\(times.count) requests; median \(Self.duration(p(0.5))), p90 \(Self.duration(p(0.9))), max \(Self.duration(times.last!)).",
                width: left + Double(labels.count) * (barW + 6), height: bottom + 22, rects: rects, texts: texts, lines: []))
        }
        return out
    }

    /// Creates that ended without verdicts, per provider and class (from the intents' outcomes).
    func failureChart() -> [String: Any] {
        var counts: [String: [IntentOutcome: Int]] = [:]
        for i in intents { if let o = i.outcome, o != .settled { counts[i.provider, default: [:]][o, default: 0] += 1 } }
        let providers = Set(intents.map(\.provider)).sorted()
        let any = counts.values.contains { !$0.isEmpty }
        var waits: [String: (n: Int, longest: Double, total: Double)] = [:]
        for i in intents { if let w = i.wait { let o = waits[i.provider] ?? (0, 0, 0); waits[i.provider] = (o.n + 1, max(o.longest, w), o.total + w) } }
        var chart = Self.stackedBars(
            id: "chart-failures", title: "Failures by class",
            caption: any
                ? "Requests that ended without verdicts: refused (nothing done; retried after the provider's wait), maybe processed (no usable answer; checked by a lookup), batch failed, account (the lane halted). The table under it gives the waits the refusals caused: how long the refused domains were held back before they were sent again (waits of one lane overlap when several requests are refused together)."
                : "No request failed.",
            rows: providers.map { p in Bar(label: p, parts: Self.classStyle.map { Part(name: $0.label, n: counts[p]?[$0.outcome] ?? 0, color: $0.color) }) })
        if !waits.isEmpty {
            chart["hasWaits"] = true
            chart["waitRows"] = waits.keys.sorted().map { p in
                let w = waits[p]!
                return ["provider": p, "refusals": String(w.n), "longest": Self.duration(w.longest), "total": Self.duration(w.total)]
            }
        }
        return chart
    }

    // MARK: SVG pieces (numbers formatted here, text escaped by the template)

    static func chart(id: String, title: String, caption: String, width: Double, height: Double, rects: [[String: String]], texts: [[String: String]], lines: [[String: String]]) -> [String: Any] {
        ["id": id, "title": title, "caption": caption, "width": fmt(width), "height": fmt(height), "rects": rects, "texts": texts, "lines": lines]
    }

    static func rect(x: Double, y: Double, w: Double, h: Double, fill: String, tip: String) -> [String: String] {
        ["x": fmt(x), "y": fmt(y), "w": fmt(w), "h": fmt(h), "fill": fill, "tip": tip]
    }

    static func text(x: Double, y: Double, _ text: String, anchor: String, fill: String = "#222") -> [String: String] {
        ["x": fmt(x), "y": fmt(y), "text": text, "anchor": anchor, "fill": fill]
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func number(_ v: Double) -> String { v >= 10 ? String(Int(v.rounded())) : String(format: "%.1f", v) }

    static func duration(_ s: Double) -> String { s < 1 ? "\(Int((s * 1000).rounded())) ms" : String(format: s < 10 ? "%.1f s" : "%.0f s", s) }

    // MARK: the template

    /// Every inserted value uses `{{...}}` (escaped); the style sheet and the search script are fixed text.
    static let template = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>bo-batch report: {{run}}</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1100px; }
        h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
        table { border-collapse: collapse; margin: .5em 0; } th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; font-size: .9em; }
        td.n { text-align: right; } th { background: #f2f2f2; }
        figure { margin: 1em 0; } figcaption { font-size: .85em; color: #555; }
        svg text { font-family: system-ui, sans-serif; font-size: 11px; }
        .halt { color: #c62828; } #search { display: none; margin: .5em 0; padding: .3em; width: 20em; }
        </style>
        </head>
        <body>
        <h1>bo-batch report: run “{{run}}”</h1>
        {{#summary}}
        <p>Started {{started}}, finished {{finished}}: <strong>exit {{exitCode}}</strong>: {{exitMeaning}}.<br>
        {{domains}} domains, {{duplicates}} duplicates, {{invalid}} lines that are not domains; {{requests}} requests this invocation.
        {{#filtered}}<br>{{filtered}}{{/filtered}}</p>
        {{#halts}}<p class="halt">Lane {{provider}} halted: {{reason}} {{fix}}</p>{{/halts}}
        {{/summary}}
        <p>Report made {{generated}} from the ledger.</p>
        <h2>Counts per provider</h2>
        <table id="counts"><thead><tr><th>provider</th>{{#countHeader}}<th>{{name}}</th>{{/countHeader}}</tr></thead>
        <tbody>{{#countRows}}<tr><td>{{provider}}</td>{{#cells}}<td class="n">{{n}}</td>{{/cells}}</tr>{{/countRows}}</tbody></table>
        {{#charts}}
        <h2>{{title}}</h2>
        <figure>
        <svg id="{{id}}" class="chart" xmlns="http://www.w3.org/2000/svg" width="{{width}}" height="{{height}}" viewBox="0 0 {{width}} {{height}}" role="img" aria-label="{{title}}">
        {{#lines}}<polyline points="{{points}}" fill="none" stroke="{{stroke}}" stroke-width="1.5"/>{{/lines}}
        {{#rects}}<rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{h}}" fill="{{fill}}"><title>{{tip}}</title></rect>{{/rects}}
        {{#texts}}<text x="{{x}}" y="{{y}}" text-anchor="{{anchor}}" fill="{{fill}}">{{text}}</text>{{/texts}}
        </svg>
        <figcaption>{{caption}}</figcaption>
        {{#hasWaits}}<table class="waits"><thead><tr><th>provider</th><th>refused requests</th><th>longest wait</th><th>waits added up</th></tr></thead><tbody>{{/hasWaits}}
        {{#waitRows}}<tr><td>{{provider}}</td><td class="n">{{refusals}}</td><td class="n">{{longest}}</td><td class="n">{{total}}</td></tr>{{/waitRows}}
        {{#hasWaits}}</tbody></table>{{/hasWaits}}
        </figure>
        {{/charts}}
        <h2>Domains not placed ({{problemCount}} domain × provider pairs)</h2>
        {{#problemsCut}}<p>{{problemsCut}}</p>{{/problemsCut}}
        {{#hasProblems}}
        <input id="search" type="search" placeholder="Filter: domain, provider, state, reason" aria-label="Filter the table">
        <table id="problems"><thead><tr><th>domain</th><th>provider</th><th>state</th><th>code</th><th>reason</th></tr></thead>
        <tbody>
        {{#problems}}<tr><td>{{domain}}</td><td>{{provider}}</td><td>{{state}}</td><td>{{code}}</td><td>{{message}}</td></tr>
        {{/problems}}
        </tbody></table>
        {{/hasProblems}}
        {{^hasProblems}}<p>Every domain ended accepted or already placed.</p>{{/hasProblems}}
        <script>
        (function () {
          var box = document.getElementById('search'), table = document.getElementById('problems');
          if (!box || !table) return;
          box.style.display = 'inline-block';
          var rows = table.tBodies[0].rows;
          box.addEventListener('input', function () {
            var q = box.value.toLowerCase();
            for (var i = 0; i < rows.length; i++) {
              rows[i].style.display = rows[i].textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
            }
          });
        })();
        </script>
        </body>
        </html>

        """
}
