import ArgumentParser
import BoBatch
import BoBatchHTTP
import BoBatchSandbox
import Foundation

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Place backorders for every domain in the given lists, at every selected provider.",
        discussion: """
            INPUT: one domain per line, or CSV (delimiter , ; or tab detected,
            header optional). '#' starts a comment. '-' reads standard input.
            Unicode names are converted to ASCII (IDNA). A drop date column feeds
            1API's cutoff; an email column feeds DNSPod.
            COMPRESSED lists are read as they are, never unpacked to disk (told
            by their first bytes, stdin too): gzip (.gz), and zip (.zip), whose
            text members are each read as a list named LIST.zip:MEMBER (others
            are skipped with a note; --member NAME reads just that one).

            CREDENTIALS come from the environment, never from arguments (or from
            NAME_FILE, a file only you can read):
              DYNADOT_API_KEY              (DYNADOT_ACCOUNT=regular|bulk|super-bulk)
              GNAME_APPID, GNAME_APPKEY    (GNAME_CHANNEL, GNAME_MAX_PRICE)
              YAY_RESELLER, YAY_USER, YAY_PASSWORD
              ONEAPI_LOGIN, ONEAPI_PASSWORD (ONEAPI_ENTITY=54cd|1234)
              DNSPOD_LOGIN_TOKEN           (DNSPOD_EMAIL or DNSPOD_EMAIL_AUTO=1)
            Every provider whose credentials are set is used unless --provider
            says otherwise. Pacing: <PROVIDER>_THREADS, <PROVIDER>_RATE (per min).
            Or all of it in a TOML config file (--config PATH, default
            ~/.config/bo-batch/config.toml); the environment wins over it, flags
            over both. 'bo-batch config check' shows what is in force.

            TLS: servers are verified against the system CA store, or against
            BO_BATCH_CA_FILE instead (a PEM file; behind a TLS-inspecting proxy,
            join the system bundle and the proxy's CA certificate into it).

            RERUNS continue the same run (named after the first file, or --run):
            nothing settled is sent again, and anything unclear is looked up at
            the provider before it is resent.

            PLAN AND CAPS: before anything is sent, the plan (per provider: domains
            to send, requests, time at the pacing in force, money exposure) is
            printed and written to DIR/plan.json. Prices: YAY_PRICE (charged per
            POST), DYNADOT_PRICE (paid if caught), ONEAPI_PRICE (deposit),
            GNAME_MAX_PRICE (most frozen), each as AMOUNT CURRENCY ('2.50 GBP').
            A plan over --max-domains or --max-spend sends nothing (exit 2), or,
            with --cap-mode first, the first domains up to the cap.
            FILTERS (--tld, --min-length, --match, --exclude-file, --drop-after, ...)
            decide which names enter the run; the others are listed in
            DIR/filtered.tsv with the reason and never sent. A rerun's filters do not
            take out names an earlier invocation already put in the run.

            RESULTS: DIR/<domain>.json per domain, DIR/invalid.tsv, DIR/summary.json
            (DIR: --out, default results/RUN; results/sandbox/RUN with --sandbox).
            Names over 195 characters get a shortened file name (see README);
            the file's "domain" field holds the whole name.

            EXAMPLES
              bo-batch submit --sandbox samples/drops-2025-10-27.txt
              DYNADOT_API_KEY_FILE=~/.dynadot-key bo-batch submit drops.txt
              bo-batch submit --provider dynadot,gname --column Domain today.csv
              YAY_PRICE='2.50 GBP' bo-batch submit --dry-run --max-spend 50GBP drops.txt
              bo-batch submit --max-domains 500 --max-spend yay=20GBP --cap-mode first drops.txt

            EXIT CODES
            \(ExitCodeHelp.table)
            """)

    @Argument(help: ArgumentHelp("Domain lists (text or CSV); '-' for standard input.", valueName: "file"))
    var files: [String]

    @Flag(help: "Start the built-in sandbox and send everything there (no keys needed, nothing real is ordered).")
    var sandbox = false

    @Option(name: .customLong("sandbox-faults"), help: ArgumentHelp("With --sandbox: a JSON fault scenario for the sandbox (refusals, latency, dropped connections, ...; see samples/sandbox-faults-*.json), to see how bo-batch copes.", valueName: "file"))
    var sandboxFaults: String?

    @Flag(name: .customLong("sandbox-tls"), help: "With --sandbox: serve it over HTTPS with a throwaway self-signed certificate, which this run alone trusts (as real APIs are reached: TLS handshakes included).")
    var sandboxTLS = false

    @Option(help: ArgumentHelp("Providers to use, comma-separated: dynadot,gname,yay,oneapi,dnspod. Default: every provider whose credentials are set (all of them with --sandbox).", valueName: "list"))
    var provider: String?

    @Option(help: ArgumentHelp("Run name; the same name continues the same run. Default: the first file's name without extension.", valueName: "name"))
    var run: String?

    @Option(help: ArgumentHelp("State directory holding the ledger. Default: $BO_BATCH_STATE_DIR, else $XDG_STATE_HOME/bo-batch, else ~/.local/state/bo-batch.", valueName: "dir"))
    var state: String?

    @Option(help: ArgumentHelp("Results directory. Default: results/RUN.", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("CSV column holding the domain: a header name or a 1-based number.", valueName: "name|number"))
    var column: String?

    @Option(help: ArgumentHelp("CSV delimiter: ',', ';' or 'tab'. Default: detected.", valueName: "char"))
    var delimiter: String?

    @Option(help: ArgumentHelp("In a zip archive, read only this member (its path in the archive, or its file name). Default: every text member.", valueName: "name"))
    var member: String?

    @Option(help: ArgumentHelp("Days an earlier run's placement keeps a domain from being sent again to the same provider. Default: 30.", valueName: "days"))
    var rememberDays: Int?

    @Option(help: ArgumentHelp("Sends per domain that end without a verdict before bo-batch gives up on it for this invocation; refusals may come twice as often in a row.", valueName: "n"))
    var maxAttempts: Int = 5

    @Flag(name: .customLong("require-all-inputs"), help: "Exit 2 and record nothing when any input cannot be opened (without it, only when none can: a missing file among others is recorded in invalid.tsv, exit 1).")
    var requireAllInputs = false

    @Flag(help: "No progress lines; only the final summary.")
    var quiet = false

    @Flag(help: "Read, check and record the input, write invalid.tsv and summary.json, send nothing.")
    var dryRun = false

    @OptionGroup(title: "Logging")
    var logging: LogOptions

    @Option(name: .customLong("metrics-file"), help: ArgumentHelp("Write Prometheus metrics (text format, for node_exporter's textfile collector) to this file: every minute during the run and at its end, replaced atomically.", valueName: "path"))
    var metricsFile: String?

    @OptionGroup(title: "Filters")
    var filters: FilterOptions

    @OptionGroup var config: ConfigOption

    @Flag(name: .shortAndLong, help: "Log every lane decision (sends, refusals, lookups, splits) to stderr.")
    var verbose = false

    @Option(name: .customLong("max-domains"), help: ArgumentHelp("The most domains each provider may be sent in this run, earlier invocations included; PROVIDER=N for one provider (repeatable).", valueName: "n|provider=n"))
    var maxDomains: [String] = []

    @Option(name: .customLong("max-spend"), help: ArgumentHelp("The most this run may cost or freeze, per currency over every provider priced in it (20GBP, '20 GBP'), or for one provider (yay=20GBP); repeatable. Needs the prices (YAY_PRICE, ...).", valueName: "amountCUR|provider=amountCUR"))
    var maxSpend: [String] = []

    @Option(name: .customLong("cap-mode"), help: ArgumentHelp("When the plan is over a cap: 'stop' sends nothing and exits 2 (the default); 'first' sends the first domains in input order up to it and records the rest as skipped.", valueName: "stop|first"))
    var capMode: String?

    mutating func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one domain list, e.g. bo-batch submit drops.txt") }
        if sandboxFaults != nil, !sandbox { throw ValidationError("--sandbox-faults needs --sandbox") }
        if sandboxTLS, !sandbox { throw ValidationError("--sandbox-tls needs --sandbox") }
        if let rememberDays, !(0...3650).contains(rememberDays) { throw ValidationError("--remember-days must be between 0 and 3650") }
        if !(1...50).contains(maxAttempts) { throw ValidationError("--max-attempts must be between 1 and 50") }
        if let run, run.isEmpty || run.contains("/") || run.hasPrefix(".") {
            throw ValidationError("--run '\(run)' must be a plain name (no '/', not starting with '.')")
        }
        do { _ = try parsedCaps() } catch { throw ValidationError(error.message) }
    }

    /// The caps the options ask for (see ``Caps/parse(maxDomains:maxSpend:mode:)``).
    func parsedCaps() throws(CapError) -> Caps {
        try Caps.parse(maxDomains: maxDomains, maxSpend: maxSpend, mode: capMode)
    }

    /// The caps with `[caps]` from the config file for each option not given; a bad one there is 2, naming the file.
    func parsedCaps(over settings: EffectiveSettings) throws -> Caps {
        let file = settings.fileCaps()
        do {
            return try Caps.parse(maxDomains: maxDomains.isEmpty ? file.maxDomains : maxDomains, maxSpend: maxSpend.isEmpty ? file.maxSpend : maxSpend, mode: capMode ?? file.mode)
        } catch {
            Terminal.error("bo-batch: \(error.message)\(settings.file.map { " (flags, or [caps] in \($0.path))" } ?? "")")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
    }

    func run() async throws {
        try LogSetup.bootstrap(verbose: verbose, options: logging)
        // The config file under the environment (flags win over both): see ConfigOption.
        let settings = try config.load()
        let env = settings.environment
        var options = InputOptions()
        options.column = column
        if let delimiter { options.delimiter = try Self.delimiterByte(delimiter) }
        options.member = member
        let filter = try filters.make(over: ConfigCommand.orUsage { try settings.fileFilters() })
        let rememberDays = try self.rememberDays ?? ConfigCommand.orUsage { try settings.rememberDays() } ?? 30

        // A night without a list is not a night with rejects: when no input can be opened (or any, with
        // --require-all-inputs), nothing is recorded, no run is made, and the exit is 2 with the paths.
        let unopenable = InputPreflight.problems(files)
        if !unopenable.isEmpty, unopenable.count == files.count || requireAllInputs {
            for problem in unopenable { Terminal.error("bo-batch: \(problem.message)") }
            let why = unopenable.count == files.count
                ? (files.count == 1 ? "the input cannot be read" : "none of the \(files.count) inputs can be read")
                : "\(unopenable.count) of the \(files.count) inputs cannot be read (--require-all-inputs)"
            Terminal.error("bo-batch: \(why): nothing was recorded or sent. If a download step makes the list, check that it ran and that the name (its date) is right.")
            throw ExitCode(ExitStatus.usage.rawValue)
        }

        let runName = run ?? Self.defaultRunName(files)
        LogSetup.sink.run = runName
        // Sandbox runs keep their own ledger and results: a real run of the same file must never find
        // sandbox placements and skip the real ones.
        let baseState = StateDirectory.resolve(option: state, environment: env)
        let stateDir = sandbox && state == nil ? (baseState as NSString).appendingPathComponent("sandbox") : baseState
        let resultsDir = out ?? settings.resultsDirectory(run: runName, sandbox: sandbox)

        // Locked before the sandbox starts: the sandbox's saved world lives in the same state directory.
        let lock = try Self.lockState(stateDir)

        // The sandbox, when asked for, runs in this process and stands in for every selected provider.
        let (sandboxServer, providerEnv) = try await SandboxLaunch.providerEnvironment(
            sandbox: sandbox, faults: sandboxFaults, tls: sandboxTLS, env: env, stateDirectory: stateDir)
        defer { SandboxLaunch.close(sandboxServer) }

        let lanes = try Self.selectLanes(provider, env: providerEnv, sandbox: sandbox, maxAttempts: maxAttempts)
        LogSetup.sink.mask(lanes.flatMap { $0.provider.secrets })
        // Prices are not credentials: read from the whole environment, sandbox or not.
        let prices: [ProviderID: ProviderPrice]
        do {
            prices = try PriceList.fromEnvironment(env, providers: lanes.map(\.provider.id))
        } catch {
            Terminal.error("bo-batch: \(error.message)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let caps = try parsedCaps(over: settings)

        let ledger: Ledger
        let job: SubmitJob
        do {
            ledger = try Ledger(directory: stateDir)
            var plan = SubmitPlan(run: runName, inputs: files, inputOptions: options, resultsDirectory: resultsDir, rememberDays: rememberDays, lanes: lanes)
            plan.filter = filter
            job = try SubmitJob(plan: plan, ledger: ledger)
        } catch {
            Terminal.error("bo-batch: cannot open the state in \(stateDir) or results in \(resultsDir): \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }

        if !quiet {
            let names = lanes.map { $0.provider.id.rawValue }.joined(separator: ", ")
            Terminal.error("bo-batch \(BoBatchVersion.string): run '\(runName)' → \(names)\(sandbox ? " (sandbox at \(sandboxServer!.baseURL))" : ""); ledger \(ledger.path)")
        }
        let input = try Self.orStopped { try job.ingest { notice in Terminal.error("bo-batch: \(notice.message)") } }
        if !quiet {
            Terminal.error("read \(input.linesRead) lines: \(input.domains) domains (\(input.newDomains) new), \(input.duplicates) duplicates, \(input.invalid) not domains\(filter == nil ? "" : ", \(input.filtered) filtered out")")
        }

        // The plan: what is left to send and what it may cost, checked against the caps before anything is sent.
        let planned = try Self.orStopped { try job.makeSendPlan(prices: prices, caps: caps, dryRun: dryRun) }
        let planFailures = planned.unwritten.map { [$0] } ?? []
        if dryRun || !quiet || !planned.outcome.stoppedBy.isEmpty {
            let file = dryRun || !caps.isEmpty ? (resultsDir as NSString).appendingPathComponent("plan.json") : nil
            for line in PlanPrinter.lines(planned.outcome.plan, file: file) { Terminal.error(line) }
        }
        if !planned.outcome.stoppedBy.isEmpty {
            for reason in planned.outcome.stoppedBy { Terminal.error("bo-batch: nothing was sent: \(reason)") }
            if caps.mode == .stop, planned.outcome.plan.caps.contains(where: \.exceeded) {
                Terminal.error("bo-batch: raise the cap, or add --cap-mode first to send the first domains in input order up to it")
            }
            let summary = try Self.orStopped { try job.finish(input: input, reports: [], dryRun: true, capStopped: true, unwritten: planFailures) }
            SummaryPrinter.print(summary, dryRun: true)
            writeMetrics(job: job, reports: [], exitCode: summary.exitCode)
            withExtendedLifetime(lock) {}
            throw ExitCode(summary.exitCode)
        }

        if dryRun {
            let summary = try Self.orStopped { try job.finish(input: input, reports: [], dryRun: true, unwritten: planFailures) }
            SummaryPrinter.print(summary, dryRun: true)
            writeMetrics(job: job, reports: [], exitCode: summary.exitCode)
            withExtendedLifetime(lock) {}
            throw ExitCode(summary.exitCode)
        }

        let metricsFile = self.metricsFile
        let metricsTick: (@Sendable () async -> Void)? = metricsFile == nil ? nil : { @Sendable in
            Self.writeMetrics(to: metricsFile, job: job, reports: await job.reportsSoFar(), exitCode: nil)
        }
        let outcome = try await LaneDriver.run(job, quiet: quiet, providerEnv: providerEnv, everyMinute: metricsTick)
        let reports = outcome.reports
        let interrupted = outcome.interrupted
        // One code, decided once: summary.json, the screen and the process all say `summary.exitCode`.
        let summary = try Self.orStopped { try job.finish(input: input, reports: reports, interrupted: interrupted, unwritten: planFailures) }
        SummaryPrinter.print(summary)
        writeMetrics(job: job, reports: reports, exitCode: summary.exitCode)
        withExtendedLifetime(lock) {}
        throw ExitCode(summary.exitCode)
    }

    /// A step that failed on the ledger (a full disk, I/O) ends the invocation with 3, as a lane that stopped
    /// does: everything recorded is kept and a rerun continues. Left to ArgumentParser it would exit 1, which
    /// says "finished".
    static func orStopped<T>(_ step: () throws -> T) throws -> T {
        do {
            return try step()
        } catch {
            Terminal.error("\nbo-batch: the run stopped: \(error). Everything recorded so far is kept; rerun to continue.")
            throw ExitCode(ExitStatus.incomplete.rawValue)
        }
    }

    /// Writes `--metrics-file`, if asked for. A failure is said and the run goes on: monitoring must not cost a run.
    func writeMetrics(job: SubmitJob, reports: [LaneReport], exitCode: Int32?) {
        Self.writeMetrics(to: metricsFile, job: job, reports: reports, exitCode: exitCode)
    }

    static func writeMetrics(to metricsFile: String?, job: SubmitJob, reports: [LaneReport], exitCode: Int32?) {
        guard let metricsFile else { return }
        do {
            let snapshot = try MetricsSnapshot.current(ledger: job.ledger, run: job.plan.run, reports: reports, started: job.started, exitCode: exitCode)
            try MetricsFile.write(snapshot, to: metricsFile)
        } catch {
            Terminal.error("bo-batch: --metrics-file \(metricsFile): could not write it: \(error)")
        }
    }

    /// Takes the state directory's run lock (`submit`, `refresh`, `cancel`): held by another run, 75; unusable, 2.
    static func lockState(_ stateDir: String) throws -> RunLock {
        do {
            return try RunLock(directory: stateDir)
        } catch let held as RunLock.Held {
            Terminal.error("bo-batch: \(held)")
            throw ExitCode(ExitStatus.locked.rawValue)
        } catch {
            // An unusable state directory is configuration (2), like the ledger; not 1, "finished".
            Terminal.error("bo-batch: cannot lock the state in \(stateDir): \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
    }

    /// The longest wait, after the first signal, for the answers of requests in flight.
    static let stopGrace: Double = 60

    static func selectLanes(_ list: String?, env: [String: String], sandbox: Bool, maxAttempts: Int) throws -> [LaneSetup] {
        var wanted: [ProviderID]
        if let list {
            wanted = []
            for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
                guard let id = ProviderID(rawValue: name) else {
                    Terminal.error("bo-batch: unknown provider '\(name)'; choose from \(ProviderID.allCases.map(\.rawValue).joined(separator: ","))")
                    throw ExitCode(ExitStatus.usage.rawValue)
                }
                if !wanted.contains(id) { wanted.append(id) }
            }
        } else {
            wanted = ProviderID.allCases
        }
        var lanes: [LaneSetup] = []
        for id in wanted {
            do {
                if let setup = try ProviderCatalog.make(id, env: env, fastPacing: sandbox, maxAttempts: maxAttempts) {
                    lanes.append(setup)
                } else if list != nil {
                    Terminal.error("bo-batch: --provider \(id.rawValue) needs \(ProviderCatalog.credentialVariables(id).joined(separator: ", ")) in the environment (or use --sandbox)")
                    throw ExitCode(ExitStatus.usage.rawValue)
                }
            } catch let error as ConfigurationError {
                Terminal.error("bo-batch: \(error.message)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
        if lanes.isEmpty {
            Terminal.error("""
                bo-batch: no provider is configured, so there is nothing to send to. Set the credentials of at least one:
                  DYNADOT_API_KEY | GNAME_APPID+GNAME_APPKEY | YAY_RESELLER+YAY_USER+YAY_PASSWORD | ONEAPI_LOGIN+ONEAPI_PASSWORD | DNSPOD_LOGIN_TOKEN
                or try everything against the built-in sandbox: bo-batch submit --sandbox FILE
                """)
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        return lanes
    }

    static func defaultRunName(_ files: [String]) -> String {
        guard let first = files.first, first != "-" else { return "stdin" }
        var file = (first as NSString).lastPathComponent
        // drops.txt.gz names its run "drops", as drops.txt does.
        if ["gz", "zip"].contains((file as NSString).pathExtension.lowercased()) { file = (file as NSString).deletingPathExtension }
        let base = (file as NSString).deletingPathExtension
        return base.isEmpty || base.hasPrefix(".") ? "run" : base
    }

    static func delimiterByte(_ text: String) throws -> UInt8 {
        switch text.lowercased() {
        case ",", "comma": return UInt8(ascii: ",")
        case ";", "semicolon": return UInt8(ascii: ";")
        case "tab", "\\t", "\t": return UInt8(ascii: "\t")
        default: throw ValidationError("--delimiter must be ',', ';' or 'tab', not '\(text)'")
        }
    }
}
