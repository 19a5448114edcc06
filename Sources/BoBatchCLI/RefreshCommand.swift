import ArgumentParser
import BoBatch
import BoBatchSandbox
import Foundation

struct RefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Ask every provider what became of each placed backorder (won, in auction, lost, ...); update the results.",
        discussion: """
            Asks only about orders whose fate can still change (never won, lost,
            cancelled, redeemed or gone), per provider, paced like submit (same
            lanes, <PROVIDER>_THREADS/_RATE, lock and signal handling): a provider
            that lists the whole account (Dynadot, Yay) gets one call per run, the
            others one per order. Every answer is recorded in the ledger with its
            history; each changed domain file gains "fate" per provider, and
            summary.json counts fates per provider ("fates") with the time
            ("refreshed"). A provider with nothing to ask (DNSPod: get-domain-back
            is not a backorder) is reported as it is. No answer: the fates stay as
            they were (exit 3: rerun).

            RUN omitted: every run in the ledger with orders whose fate can change.

            EXAMPLES
              bo-batch refresh drops-2025-10-27
              bo-batch refresh --provider dynadot,yay
              bo-batch refresh --sandbox --sandbox-time +6d drops-2025-10-27
              0 * * * * bo-batch refresh --quiet    # cron: every hour after the drop

            EXIT CODES
            \(ExitCodeHelp.followUpTable)
            """)

    @Argument(help: "The run's name (see 'bo-batch status'). Default: every run with orders whose fate can change.")
    var name: String?

    @Option(help: ArgumentHelp("Providers to ask, comma-separated. Default: every provider whose credentials are set (all with --sandbox).", valueName: "list"))
    var provider: String?

    @Flag(help: "Ask the built-in sandbox (its own ledger, as submit --sandbox).")
    var sandbox = false

    @Option(name: .customLong("sandbox-time"), help: ArgumentHelp("With --sandbox: run the sandbox's clock this far ahead (+2d, +6h, +30m), past the drop.", valueName: "+Nd|+Nh|+Nm"))
    var sandboxTime: String?

    @Option(help: ArgumentHelp("State directory holding the ledger (as for submit).", valueName: "dir"))
    var state: String?

    @Option(help: ArgumentHelp("Results directory of RUN. Default: results/RUN (results/sandbox/RUN with --sandbox).", valueName: "dir"))
    var out: String?

    @Flag(help: "Only the final lines.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log every lane decision to stderr.")
    var verbose = false

    @OptionGroup var config: ConfigOption

    mutating func validate() throws {
        if sandboxTime != nil, !sandbox { throw ValidationError("--sandbox-time needs --sandbox") }
        if let sandboxTime {
            do { _ = try SandboxTimeOffset.parse(sandboxTime) } catch { throw ValidationError("--sandbox-time: \(error)") }
        }
        if out != nil, name == nil { throw ValidationError("--out needs a RUN: each run has its own results directory") }
    }

    func run() async throws {
        LogSetup.bootstrap(verbose: verbose)
        let session = try await FollowUpSession.open(provider: provider, sandbox: sandbox, sandboxTime: sandboxTime, state: state, settings: try config.load())
        let ledger = session.ledger
        let runs: [String]
        if let name {
            guard try ledger.runExists(name) else {
                Terminal.error("bo-batch: no run named '\(name)' in \(ledger.path); 'bo-batch status' lists them")
                await session.shutdown()
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            runs = [name]
        } else {
            runs = try SubmitCommand.orStopped { try ledger.runsWithOpenOrders() }
        }
        if !quiet {
            Terminal.error("bo-batch \(BoBatchVersion.string): refresh \(runs.isEmpty ? "(no run has orders whose fate can change)" : runs.joined(separator: ", ")) → \(session.lanes.map(\.provider.id.rawValue).joined(separator: ", "))")
        }
        // The sandbox's clock when it runs ahead, so drop dates are judged at the time the fakes answer for.
        let wallClock = session.wallClock
        let lanes = session.lanes.map { FollowUpLane(setup: $0, ledger: ledger, wallClock: wallClock) }
        let (reports, interrupted) = try await session.run(lanes) { lane in try await lane.refresh(runs: runs) }
        let unwritten = try session.writeResults(runs: runs, out: out, sandbox: sandbox)
        var totals: [ProviderID: [Fate: Int]] = [:]
        for run in runs {
            for (p, counts) in try SubmitCommand.orStopped({ try ledger.fateCounts(run: run) }) { totals[p, default: [:]].merge(counts, uniquingKeysWith: +) }
        }
        for report in reports {
            let name = report.provider.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            if let note = report.notOffered {
                Terminal.error("  \(name) not asked: \(note) (\(report.orders) placed, as submit left them)")
                continue
            }
            let fates = Fate.allCases.compactMap { f in totals[report.provider]?[f].map { "\($0) \(f.rawValue)" } }.joined(separator: ", ")
            Terminal.error("  \(name) \(fates.isEmpty ? "no placed orders" : fates)  [asked \(report.orders), \(report.changed) changed; \(report.requests) requests]")
            FollowUpSession.printNotes(report)
        }
        let facts = FollowUpSession.facts(.refresh, reports, interrupted: interrupted, unwritten: unwritten)
        await session.shutdown()
        throw FollowUpSession.finish(facts, reports: reports)
    }
}
