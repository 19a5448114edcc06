import ArgumentParser
import BoBatch
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the ledger knows about a run (or list the runs), without sending anything.",
        discussion: """
            Reads the ledger only: counts per provider and state, and the exit code a rerun
            would start from. Safe to call while a run is going on.
              bo-batch status                      # the runs in the ledger
              bo-batch status drops-2025-10-27     # one run
              bo-batch status --sandbox drops-2025-10-27
            """)

    @Argument(help: "The run's name (see 'bo-batch status' for the list).")
    var name: String?

    @Option(help: ArgumentHelp("State directory holding the ledger (as for submit).", valueName: "dir"))
    var state: String?

    @Flag(help: "Look in the sandbox's ledger.")
    var sandbox = false

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let base = StateDirectory.resolve(option: state, environment: env)
        let dir = sandbox && state == nil ? (base as NSString).appendingPathComponent("sandbox") : base
        guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("ledger.sqlite")) else {
            Terminal.error("bo-batch: no ledger in \(dir) yet; runs appear here after 'bo-batch submit'")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let ledger = try Ledger(directory: dir)
        guard let run = name else {
            for info in try ledger.runs() {
                print("\(info.name)\t\(info.domains) domains\tlast run \(info.updated.formatted(Date.ISO8601FormatStyle()))\t\(info.invocations) invocation(s)")
            }
            return
        }
        guard try ledger.runExists(run) else {
            Terminal.error("bo-batch: no run named '\(run)' in \(ledger.path); 'bo-batch status' lists them")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let counts = try ledger.stateCounts(run: run)
        let invalid = try ledger.invalidCount(run: run)
        print("run '\(run)': \(try ledger.domainCount(run: run)) domains, \(invalid) not domains")
        for provider in counts.keys.sorted() {
            var states: [String: Int] = [:]
            for (s, n) in counts[provider] ?? [:] { states[s.reported, default: 0] += n }
            let text = SummaryPrinter.order.compactMap { s in states[s].map { "\($0) \(s)" } }.joined(separator: ", ")
            print("  \(provider.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(text)")
        }
        let status = ExitStatus.of(counts: counts, invalidInputs: invalid, halted: false)
        print("as of now: exit \(status.rawValue): \(status.meaning)")
    }
}
