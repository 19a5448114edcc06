import ArgumentParser
import BoBatch
import BoBatchHTTP
import BoBatchSandbox
import Foundation
import Glibc

/// What `refresh` and `cancel` share with `submit`: the state directory (the sandbox's own with `--sandbox`), the
/// in-process sandbox, the lanes built by `ProviderCatalog.make` (same `<P>_THREADS`/`<P>_RATE`), the run lock,
/// and the signal handling. Each lane's work runs concurrently, one lane per provider.
struct FollowUpSession {
    let stateDir: String
    let ledger: Ledger
    let lock: RunLock
    let lanes: [LaneSetup]
    let sandboxServer: SandboxServer?
    let providerEnv: [String: String]
    /// The config file under the environment (``ConfigOption/load()``): results' default folder too.
    let settings: EffectiveSettings

    static func open(provider: String?, sandbox: Bool, sandboxTime: String?, state: String?, settings: EffectiveSettings) async throws -> FollowUpSession {
        let env = settings.environment
        let baseState = StateDirectory.resolve(option: state, environment: env)
        let stateDir = sandbox && state == nil ? (baseState as NSString).appendingPathComponent("sandbox") : baseState
        guard FileManager.default.fileExists(atPath: (stateDir as NSString).appendingPathComponent("ledger.sqlite")) else {
            Terminal.error("bo-batch: no ledger in \(stateDir) yet; place backorders with 'bo-batch submit' first")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        // Locked before the sandbox starts: its saved world (the orders submit placed) lives in this directory.
        let lock = try SubmitCommand.lockState(stateDir)
        let (server, providerEnv) = try await SandboxLaunch.providerEnvironment(sandbox: sandbox, env: env, stateDirectory: stateDir)
        if let server, let sandboxTime {
            do {
                server.clock.advance(to: try SandboxTimeOffset.parse(sandboxTime).seconds)
            } catch {
                SandboxLaunch.close(server)
                Terminal.error("bo-batch: --sandbox-time: \(error)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
        let lanes = try SubmitCommand.selectLanes(provider, env: providerEnv, sandbox: sandbox, maxAttempts: 5)
        let ledger: Ledger
        do {
            ledger = try Ledger(directory: stateDir)
        } catch {
            Terminal.error("bo-batch: cannot open the state in \(stateDir): \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        return FollowUpSession(stateDir: stateDir, ledger: ledger, lock: lock, lanes: lanes, sandboxServer: server, providerEnv: providerEnv, settings: settings)
    }

    func shutdown() async {
        if let sandboxServer {
            do { try sandboxServer.saveState(closing: true) } catch { Terminal.error("bo-batch: \(error); the next --sandbox run starts from the world saved before") }
            await sandboxServer.shutdown()
        }
        withExtendedLifetime(lock) {}
    }

    /// "Now" for the providers: the sandbox's clock when it runs ahead (`--sandbox-time`), so drop dates are
    /// compared with the time the fakes answer for.
    var wallClock: @Sendable () -> Date {
        guard let clock = sandboxServer?.clock else { return Date.init }
        return { clock.now() }
    }

    /// Runs `body` on every lane concurrently, stopping as `submit` does on SIGINT/SIGTERM. Returns each lane's
    /// report (what it did before the signal, a halt included) and whether a signal stopped it.
    func run(_ lanes: [FollowUpLane], _ body: @escaping @Sendable (FollowUpLane) async throws -> FollowUpReport) async throws -> (reports: [FollowUpReport], interrupted: Bool) {
        let work = Task {
            try await withThrowingTaskGroup(of: FollowUpReport.self) { group in
                for lane in lanes { group.addTask { try await body(lane) } }
                var out: [FollowUpReport] = []
                for try await report in group { out.append(report) }
                return out
            }
        }
        let grace = min(SubmitCommand.stopGrace, (try? ProviderCatalog.requestTimeoutCap(providerEnv)).flatMap { $0 } ?? SubmitCommand.stopGrace)
        let (lanesEnded, signalled) = SignalWaiter.stopGracefully(grace: grace) { work.cancel() }
        defer { lanesEnded.set() }
        var reports: [FollowUpReport]
        do {
            reports = try await work.value
        } catch is CancellationError {
            reports = []
            for lane in lanes { reports.append(await lane.reportSoFar()) }
        } catch {
            lanesEnded.set()
            Terminal.error("\nbo-batch: stopped: \(error). Everything recorded so far is kept; rerun to continue.")
            throw ExitCode(ExitStatus.incomplete.rawValue)
        }
        lanesEnded.set()
        return (reports.sorted { $0.provider < $1.provider }, signalled.isSet)
    }

    /// The results directory of `run`: `--out` (one run only), else results/RUN (results/sandbox/RUN with
    /// --sandbox), `results` being the config file's `[defaults] results` when it has one.
    func resultsDirectory(run: String, out: String?, sandbox: Bool) -> String {
        out ?? settings.resultsDirectory(run: run, sandbox: sandbox)
    }

    /// Writes each run's changed result files and summary.json; returns how many files could not be written.
    func writeResults(runs: [String], out: String?, sandbox: Bool) throws -> Int {
        var failed = 0
        for run in runs {
            let report = try SubmitCommand.orStopped {
                try FollowUpResults.write(run: run, ledger: ledger, directory: resultsDirectory(run: run, out: out, sandbox: sandbox))
            }
            for failure in report.failures.prefix(SummaryPrinter.listedFileErrors) { Terminal.error("bo-batch: \(failure)") }
            failed += report.failed
        }
        return failed
    }

    /// The exit, decided by ``ExitStatus/decide(_:)-(FollowUpFacts)``, with the halts' fixes printed.
    static func finish(_ facts: FollowUpFacts, reports: [FollowUpReport]) -> ExitCode {
        for report in reports {
            if let halt = report.halt {
                Terminal.error("bo-batch: \(report.provider.rawValue) lane halted: \(halt.reason)\n  fix: \(halt.fix)")
            }
        }
        let status = ExitStatus.decide(facts)
        Terminal.error("exit \(status.rawValue): \(ExitStatus.meaning(of: facts))")
        return ExitCode(status.rawValue)
    }

    static func facts(_ command: FollowUpFacts.Command, _ reports: [FollowUpReport], interrupted: Bool, unwritten: Int) -> FollowUpFacts {
        FollowUpFacts(
            command: command, haltedLanes: reports.filter { $0.halt != nil }.map(\.provider), interrupted: interrupted,
            incomplete: reports.reduce(0) { $0 + $1.incomplete }, notPossible: reports.reduce(0) { $0 + $1.notPossible }, unwrittenResultFiles: unwritten)
    }

    static func printNotes(_ report: FollowUpReport) {
        for note in report.notes { Terminal.error("    \(note)") }
        if report.moreNotes > 0 { Terminal.error("    … and \(report.moreNotes) more") }
    }
}
