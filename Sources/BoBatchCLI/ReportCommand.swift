import ArgumentParser
import BoBatch
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report.html again from the ledger (submit writes it at the end of every run).",
        discussion: """
            One self-contained HTML file beside summary.json: counts and outcomes per
            provider, throughput per lane, latency per provider, failures by class, the
            fates of the placed orders, and a searchable table of every domain that did
            not end accepted or already placed. No network needed to read it.
              bo-batch report drops-2025-10-27
              bo-batch report --sandbox --open drops-2025-10-27
            """)

    @Argument(help: "The run's name (see 'bo-batch status' for the list).")
    var name: String

    @Option(help: ArgumentHelp("State directory holding the ledger (as for submit).", valueName: "dir"))
    var state: String?

    @Option(help: ArgumentHelp("Results directory to write report.html to (as for submit). Default: results/RUN; results/sandbox/RUN with --sandbox.", valueName: "dir"))
    var out: String?

    @Flag(help: "Look in the sandbox's ledger.")
    var sandbox = false

    @Flag(help: "Open the report with xdg-open (when there is one; the path is printed either way).")
    var open = false

    @OptionGroup var config: ConfigOption

    func run() throws {
        let settings = try config.load()
        let env = settings.environment
        let base = StateDirectory.resolve(option: state, environment: env)
        let dir = sandbox && state == nil ? (base as NSString).appendingPathComponent("sandbox") : base
        guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("ledger.sqlite")) else {
            Terminal.error("bo-batch: no ledger in \(dir) yet; runs appear here after 'bo-batch submit'")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let ledger = try Ledger(directory: dir)
        guard try ledger.runExists(name) else {
            Terminal.error("bo-batch: no run named '\(name)' in \(ledger.path); 'bo-batch status' lists them")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let resultsDir = out ?? settings.resultsDirectory(run: name, sandbox: sandbox)
        let path = (resultsDir as NSString).appendingPathComponent("report.html")
        do {
            try FileManager.default.createDirectory(atPath: resultsDir, withIntermediateDirectories: true)
            let html = try RunReport.load(ledger: ledger, run: name, summary: Self.summary(in: resultsDir)).html()
            // Atomic: a temporary file renamed over the old report, so a reader never sees half of one.
            try Data(html.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            Terminal.error("bo-batch: cannot write \(path): \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        print(path)
        if open, let opener = Self.xdgOpen(env) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: opener)
            process.arguments = [path]
            try? process.run()
        }
    }

    /// The run's last `summary.json`, when the results directory has one: the report then says the exit code.
    static func summary(in directory: String) -> RunSummary? {
        guard let data = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent("summary.json")) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(RunSummary.self, from: data)
    }

    static func xdgOpen(_ env: [String: String]) -> String? {
        for dir in (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/xdg-open"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
