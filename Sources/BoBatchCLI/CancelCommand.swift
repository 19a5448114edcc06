import ArgumentParser
import BoBatch
import Foundation
import Glibc

struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Withdraw placed backorders before they cost money; recorded in the ledger.",
        discussion: """
            RUN: every placed order of the run whose fate is not final. FILE (a
            domain list, when no run has that name): those domains, in every run
            of the ledger that placed them. --domains FILE narrows either.

            Each cancel is committed to the ledger before it is sent; an unclear
            answer is settled by looking the order up at the provider (still held:
            sent again; gone: cancelled), never by a blind resend, so a rerun after
            a crash cancels nothing twice. Orders already won cannot be cancelled
            (said, never sent); a provider whose API has no cancel (Gname) is
            named with its note, nothing sent.

            Asks for confirmation (type 'yes') when standard input is a terminal;
            otherwise needs --yes. --dry-run lists what would be cancelled.

            EXAMPLES
              bo-batch cancel --dry-run drops-2025-10-27
              bo-batch cancel --provider dynadot --domains unwanted.txt --yes drops-2025-10-27
              bo-batch cancel --yes unwanted.txt

            EXIT CODES
            \(ExitCodeHelp.followUpTable)
            """)

    @Argument(help: ArgumentHelp("A run's name, or a domain list (FILE) whose domains are cancelled in every run.", valueName: "run|file"))
    var target: String

    @Option(help: ArgumentHelp("Providers to cancel at, comma-separated. Default: every provider whose credentials are set (all with --sandbox).", valueName: "list"))
    var provider: String?

    @Option(help: ArgumentHelp("Only these domains (a domain list).", valueName: "file"))
    var domains: String?

    @Flag(help: "Cancel without asking.")
    var yes = false

    @Flag(help: "List what would be cancelled; send nothing.")
    var dryRun = false

    @Flag(help: "Cancel in the built-in sandbox (its own ledger, as submit --sandbox).")
    var sandbox = false

    @Option(help: ArgumentHelp("State directory holding the ledger (as for submit).", valueName: "dir"))
    var state: String?

    @Option(help: ArgumentHelp("Results directory (one run only). Default: results/RUN (results/sandbox/RUN with --sandbox).", valueName: "dir"))
    var out: String?

    @Flag(name: .shortAndLong, help: "Log every lane decision to stderr.")
    var verbose = false

    @OptionGroup var config: ConfigOption

    func run() async throws {
        LogSetup.bootstrap(verbose: verbose)
        let session = try await FollowUpSession.open(provider: provider, sandbox: sandbox, sandboxTime: nil, state: state, settings: try config.load())
        let ledger = session.ledger
        var selection: CancelSelection
        do {
            if try ledger.runExists(target) {
                selection = CancelSelection(runs: [target])
            } else if FileManager.default.fileExists(atPath: target) {
                selection = CancelSelection(runs: try ledger.runs().map(\.name).sorted(), domains: try DomainListFile.names(target))
            } else {
                Terminal.error("bo-batch: '\(target)' is neither a run in \(ledger.path) nor a file; 'bo-batch status' lists the runs")
                await session.shutdown()
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            if let domains {
                let narrow = try DomainListFile.names(domains)
                selection.domains = selection.domains.map { $0.intersection(narrow) } ?? narrow
            }
        } catch let error as InputFileError {
            Terminal.error("bo-batch: \(error)")
            await session.shutdown()
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        if out != nil, selection.runs.count != 1 {
            Terminal.error("bo-batch: --out needs a single run")
            await session.shutdown()
            throw ExitCode(ExitStatus.usage.rawValue)
        }

        // The sandbox's clock when it runs ahead, so drop dates are judged at the time the fakes answer for.
        let wallClock = session.wallClock
        let lanes = session.lanes.map { FollowUpLane(setup: $0, ledger: ledger, wallClock: wallClock) }
        let plans = try SubmitCommand.orStopped { try lanes.map { try $0.planCancel(selection) } }
        for plan in plans {
            let name = plan.provider.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            var parts = [plan.notOffered == nil ? "\(plan.sendCount) to cancel" : "\(plan.sendCount) placed"]
            if plan.settleCount > 0 { parts.append("\(plan.settleCount) unclear from before (looked up first)") }
            if !plan.won.isEmpty { parts.append("\(plan.won.count) won: cannot be cancelled") }
            if !plan.refusedBefore.isEmpty { parts.append("\(plan.refusedBefore.count) refused before") }
            if plan.final > 0 { parts.append("\(plan.final) already final") }
            Terminal.error("  \(name) \(parts.joined(separator: ", "))\(plan.notOffered.map { "; nothing can be sent: \($0)" } ?? "")")
        }
        let total = plans.filter { $0.notOffered == nil }.reduce(0) { $0 + $1.sendCount + $1.settleCount }
        if dryRun {
            for plan in plans where plan.notOffered == nil {
                for (run, rows) in plan.toSend.sorted(by: { $0.key < $1.key }) {
                    for row in rows { print("\(plan.provider.rawValue)\t\(run)\t\(row.order.domain.ascii)") }
                }
            }
            Terminal.error("dry run: \(total) orders would be cancelled; nothing sent")
            await session.shutdown()
            return
        }
        // Without --yes, only a person at a terminal may confirm: a script or cron job must say --yes.
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                Terminal.error("bo-batch: cancel needs --yes (standard input is not a terminal to confirm at); --dry-run lists what it would cancel")
                await session.shutdown()
                throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
        if total > 0, !yes {
            let at = plans.filter { $0.notOffered == nil && $0.sendCount + $0.settleCount > 0 }
                .map { "\($0.provider.rawValue) (\($0.sendCount + $0.settleCount))" }.joined(separator: ", ")
            FileHandle.standardError.write(Data("Cancel \(total) orders at \(at)? Type 'yes' to go on: ".utf8))
            guard readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == "yes" else {
                Terminal.error("bo-batch: not confirmed; nothing sent")
                await session.shutdown()
                throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
        let byProvider = Dictionary(uniqueKeysWithValues: plans.map { ($0.provider, $0) })
        let (reports, interrupted) = try await session.run(lanes) { lane in try await lane.cancel(byProvider[lane.provider.id]!) }
        let touched = Set(plans.flatMap { Array($0.toSend.keys) + Array($0.toSettle.keys) }).sorted()
        let unwritten = try session.writeResults(runs: touched, out: out, sandbox: sandbox)
        for report in reports {
            let name = report.provider.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
            if let note = report.notOffered, report.orders > 0 {
                Terminal.error("  \(name) not cancelled: \(note) (\(report.orders) orders)")
            } else {
                Terminal.error("  \(name) \(report.answered) cancelled, \(report.notPossible) not possible, \(report.incomplete) left for a rerun  [\(report.requests) requests, \(report.lookups) lookups]")
            }
            FollowUpSession.printNotes(report)
        }
        let facts = FollowUpSession.facts(.cancel, reports, interrupted: interrupted, unwritten: unwritten)
        await session.shutdown()
        throw FollowUpSession.finish(facts, reports: reports)
    }
}

/// The domains of a list file, as `submit` reads it (text or CSV, compressed too), in ASCII form; lines that are
/// not domains are left out.
enum DomainListFile {
    static func names(_ path: String) throws -> Set<String> {
        var out: Set<String> = []
        for input in ListInputs(paths: [path], options: InputOptions()) {
            guard let reader = try input.open(note: { Terminal.error("bo-batch: \($0)") }) else { continue }
            while let item = try reader.next() {
                if case .domain(let text, _, _) = item, let name = try? DomainName(normalizing: text) { out.insert(name.ascii) }
            }
        }
        return out
    }
}
