import ArgumentParser
import BoBatch
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the ledger knows about a run (or list the runs), without sending anything.",
        discussion: """
            Reads the ledger only: counts per provider and state, the fates of the placed
            orders per provider (won, in-auction, lost, redeemed, cancelled, gone, unknown,
            waiting) and when the run was last refreshed, what 'reclaim' did for it, and the
            exit code the run's last invocation ended with, as the ledger stands now (the
            same code, decided the same way). Safe to call while a run is going on.
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

    @OptionGroup var config: ConfigOption

    func run() throws {
        let env = try config.load().environment
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
        // The last invocation's own facts (a halted lane, a signal, unwritten files, a dry run) with the pairs as
        // they are now: right after a run, exactly what it exited with. None while a run is under way.
        let last = try ledger.lastInvocation(run: run)
        let facts = try ledger.exitFacts(run: run, invocation: last ?? InvocationFacts())
        let counts = facts.counts
        print("run '\(run)': \(try ledger.domainCount(run: run)) domains, \(facts.invalidInputs) not domains")
        for provider in counts.keys.sorted() {
            var states: [String: Int] = [:]
            for (s, n) in counts[provider] ?? [:] { states[s.reported, default: 0] += n }
            let text = SummaryPrinter.order.compactMap { s in states[s].map { "\($0) \(s)" } }.joined(separator: ", ")
            print("  \(provider.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(text)")
        }
        for line in try Self.fateLines(ledger, run: run) { print(line) }
        if let last, let note = Self.note(last) { print("last invocation: \(note)") }
        print("as of now: exit \(ExitStatus.decide(facts).rawValue): \(ExitStatus.meaning(of: facts))")
    }

    /// The order `status` counts fates in: the catches first, the orders still open last.
    static let fateOrder: [Fate] = [.won, .inAuction, .lost, .redeemed, .cancelled, .gone, .unknown, .waiting]

    /// What became of the placed orders, per provider (``Ledger/fateCounts(run:)``; an order never refreshed
    /// counts as waiting), when the run was last refreshed, and what `reclaim` did for it. Nothing when the run
    /// placed nothing and has no reclaim.
    static func fateLines(_ ledger: Ledger, run: String) throws -> [String] {
        let fates = try ledger.fateCounts(run: run)
        var lines: [String] = []
        if !fates.isEmpty {
            lines.append("fates of the placed orders:")
            for provider in fates.keys.sorted() {
                let counts = fates[provider] ?? [:]
                // DNSPod places no backorder: its sends never refreshed are not orders waiting for a drop.
                if provider == .dnspod, counts.keys.allSatisfy({ $0 == .waiting }) { continue }
                let text = fateOrder.compactMap { f in counts[f].map { "\($0) \(f.rawValue)" } }.joined(separator: ", ")
                lines.append("  \(provider.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(text)")
            }
            let last = try ledger.lastFateCheck(run: run)
            lines.append(last.map { "last refreshed: \($0.formatted(Date.ISO8601FormatStyle()))" } ?? "last refreshed: never ('bo-batch refresh \(run)' asks the providers)")
        }
        let reclaim = ReclaimJob.derivedRun(of: run)
        if try ledger.runExists(reclaim) {
            let facts = try ledger.exitFacts(run: reclaim, invocation: InvocationFacts())
            var states: [String: Int] = [:]
            for (s, n) in facts.counts[.dnspod] ?? [:] { states[s.reported, default: 0] += n }
            let text = SummaryPrinter.order.compactMap { s in states[s].map { "\($0) \(s)" } }.joined(separator: ", ")
            lines.append("reclaim (DNSPod get-domain-back, run '\(reclaim)'): \(text.isEmpty ? "nothing yet" : text)")
        }
        return lines
    }

    /// What the last invocation adds to the pairs, if anything.
    static func note(_ facts: InvocationFacts) -> String? {
        var parts: [String] = []
        if facts.capStopped { parts.append("stopped by a cap before anything was sent (plan.json in the results says which)") }
        if facts.dryRun { parts.append("dry run, nothing sent") }
        if !facts.haltedLanes.isEmpty { parts.append("halted: \(facts.haltedLanes.map(\.rawValue).joined(separator: ", ")) (the failed pairs' messages name the fix)") }
        if facts.interrupted { parts.append("interrupted by a signal") }
        if facts.unwrittenResultFiles > 0 { parts.append("\(facts.unwrittenResultFiles) result file(s) not written") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
