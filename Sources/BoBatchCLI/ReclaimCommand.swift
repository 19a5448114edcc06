import ArgumentParser
import BoBatch
import BoBatchHTTP
import BoBatchSandbox
import Foundation

/// `bo-batch reclaim RUN`: DNSPod's get-domain-back for the domains RUN caught (see ``ReclaimJob``).
struct ReclaimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reclaim",
        abstract: "For every domain a run caught (fate 'won'), ask DNSPod to hand its DNS hosting back (Domain.Acquiresend).",
        discussion: """
            After a catch, the domain's DNS may still be hosted in the old owner's DNSPod
            account, and DNSPod will not let another account add it. Domain.Acquiresend
            mails a verification code to the domain's WHOIS address; entering it at
            DNSPod moves the domain to this account. This is not a backorder: it is the
            step after one. It sends nothing for a domain not won (run 'bo-batch refresh'
            first: fates come from there).

            The email comes as for submit: the input's email column, else DNSPOD_EMAIL,
            else with DNSPOD_EMAIL_AUTO=1 the first address DNSPod offers. Credentials:
            DNSPOD_LOGIN_TOKEN (pacing DNSPOD_THREADS, DNSPOD_RATE).

            Recorded in the ledger as a run of its own, RUN+reclaim (one DNSPod pair per
            won domain, apart from any DNSPod pair RUN itself has); results in
            DIR/reclaim/ (DIR: the run's results, --out, default results/RUN). Reruns send
            nothing twice and add the domains won since the last reclaim; a send that got
            no answer is sent again at most once, as in submit.
              bo-batch refresh drops && bo-batch reclaim drops

            EXIT CODES (as for submit)
            \(ExitCodeHelp.table)
            """)

    @Argument(help: "The run whose won domains to reclaim (see 'bo-batch status').")
    var name: String

    @Flag(help: "Use the run's sandbox ledger and send to the built-in sandbox (no keys needed, nothing real is sent).")
    var sandbox = false

    @Option(help: ArgumentHelp("State directory holding the ledger (as for submit).", valueName: "dir"))
    var state: String?

    @Option(help: ArgumentHelp("The run's results directory (as for submit; default results/RUN); reclaim writes into its reclaim/ folder.", valueName: "dir"))
    var out: String?

    @Flag(help: "Record the won domains and say what would be sent; send nothing.")
    var dryRun = false

    @Flag(help: "No progress lines; only the final summary.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Log every lane decision to stderr.")
    var verbose = false

    @OptionGroup var config: ConfigOption

    mutating func validate() throws {
        if name.isEmpty || name.contains("/") || name.hasPrefix(".") { throw ValidationError("'\(name)' is not a run name") }
        if name.hasSuffix(ReclaimJob.suffix) {
            throw ValidationError("'\(name)' is a reclaim's own record; give the run it reclaims for ('\(name.dropLast(ReclaimJob.suffix.count))')")
        }
    }

    func run() async throws {
        LogSetup.bootstrap(verbose: verbose)
        let settings = try config.load()
        let env = settings.environment
        let baseState = StateDirectory.resolve(option: state, environment: env)
        let stateDir = sandbox && state == nil ? (baseState as NSString).appendingPathComponent("sandbox") : baseState
        let runResults = out ?? settings.resultsDirectory(run: name, sandbox: sandbox)

        var sandboxServer: SandboxServer?
        var providerEnv = env
        if sandbox {
            do {
                sandboxServer = try await SandboxServer.start(SandboxOptions())
            } catch {
                Terminal.error("bo-batch: could not start the sandbox: \(error)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            // Only sandbox credentials, as for submit --sandbox: a real token must never meet the sandbox.
            providerEnv = env.filter { key, _ in key == "DNSPOD_THREADS" || key == "DNSPOD_RATE" || key.hasPrefix("DNSPOD_EMAIL") }
            providerEnv.merge(SandboxCredentials.environment(for: sandboxServer!)) { _, sandboxValue in sandboxValue }
            if providerEnv["DNSPOD_EMAIL"] == nil, providerEnv["DNSPOD_EMAIL_AUTO"] == nil { providerEnv["DNSPOD_EMAIL_AUTO"] = "1" }
            if let caFile = sandboxServer!.caFilePath { CurlTrust.useCAFile(caFile) }
        } else if let problem = CurlTrust.problem(in: env) {
            Terminal.error("bo-batch: \(problem)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        defer { if let server = sandboxServer { Task { await server.shutdown() } } }

        let lane: LaneSetup
        do {
            guard let setup = try ProviderCatalog.make(.dnspod, env: providerEnv, fastPacing: sandbox) else {
                Terminal.error("bo-batch: reclaim sends DNSPod's Domain.Acquiresend and needs \(ProviderCatalog.credentialVariables(.dnspod).joined(separator: ", ")) in the environment (or use --sandbox)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            lane = setup
        } catch let error as ConfigurationError {
            Terminal.error("bo-batch: \(error.message)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }

        guard FileManager.default.fileExists(atPath: (stateDir as NSString).appendingPathComponent("ledger.sqlite")) else {
            Terminal.error("bo-batch: no ledger in \(stateDir) yet; submit and refresh a run before reclaiming its catches")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let lock: RunLock
        do {
            lock = try RunLock(directory: stateDir)
        } catch let held as RunLock.Held {
            Terminal.error("bo-batch: \(held)")
            throw ExitCode(ExitStatus.locked.rawValue)
        } catch {
            Terminal.error("bo-batch: cannot lock the state in \(stateDir): \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let ledger: Ledger
        let won: [WonDomain]
        let derivedExists: Bool
        do {
            ledger = try Ledger(directory: stateDir)
            guard try ledger.runExists(name) else {
                Terminal.error("bo-batch: no run named '\(name)' in \(ledger.path); 'bo-batch status' lists them")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            won = try ledger.wonDomains(run: name)
            derivedExists = try ledger.runExists(ReclaimJob.derivedRun(of: name))
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Terminal.error("bo-batch: cannot open the state in \(stateDir): \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        if won.isEmpty, !derivedExists {
            // Nothing recorded, nothing written: a cron line may call reclaim after every refresh.
            let last = try SubmitCommand.orStopped { try ledger.lastFateCheck(run: name) }
            Terminal.error("bo-batch: run '\(name)' has no domain won yet\(last.map { " (last refreshed \($0.formatted(Date.ISO8601FormatStyle())))" } ?? " (never refreshed: run 'bo-batch refresh \(name)' first)"); nothing to reclaim")
            withExtendedLifetime(lock) {}
            return
        }

        let reclaim: ReclaimJob
        do {
            reclaim = try ReclaimJob(run: name, runResults: runResults, dnspod: lane, ledger: ledger)
        } catch {
            Terminal.error("bo-batch: cannot open the results in \(ReclaimJob.resultsDirectory(runResults: runResults)): \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let job = reclaim.job
        if !quiet {
            Terminal.error("bo-batch \(BoBatchVersion.string): reclaim for run '\(name)' → dnspod Domain.Acquiresend\(sandbox ? " (sandbox at \(sandboxServer!.baseURL))" : ""); recorded as run '\(job.plan.run)' in \(ledger.path)")
        }
        let input = try SubmitCommand.orStopped { try reclaim.ingest(won: won) }
        if !quiet || dryRun {
            Terminal.error("\(won.count) domain(s) won in '\(name)', \(input.newDomains) new since the last reclaim")
        }

        if dryRun {
            let waiting = try SubmitCommand.orStopped {
                try ledger.pairs(run: job.plan.run, provider: .dnspod, state: .pending, afterSeq: 0, limit: 1_000_000)
            }
            for pair in waiting.prefix(50) { Terminal.error("  would send: \(pair.item.domain.ascii)") }
            if waiting.count > 50 { Terminal.error("  … and \(waiting.count - 50) more") }
            let summary = try SubmitCommand.orStopped { try job.finish(input: input, reports: [], dryRun: true) }
            SummaryPrinter.print(summary, dryRun: true)
            withExtendedLifetime(lock) {}
            throw ExitCode(summary.exitCode)
        }

        let outcome = try await LaneDriver.run(job, quiet: quiet, providerEnv: providerEnv)
        let summary = try SubmitCommand.orStopped { try job.finish(input: input, reports: outcome.reports, interrupted: outcome.interrupted) }
        SummaryPrinter.print(summary)
        withExtendedLifetime(lock) {}
        throw ExitCode(summary.exitCode)
    }
}
