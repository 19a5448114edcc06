import ArgumentParser
import BoBatch
import BoBatchHTTP
import BoBatchSandbox
import Foundation

/// The in-process sandbox of `submit --sandbox`, `refresh --sandbox` and `cancel --sandbox`, started one way.
enum SandboxLaunch {
    /// Starts the sandbox and returns it with the provider environment pointing at it: only sandbox credentials
    /// (a real key in the environment must never meet the sandbox, nor the reverse), with pacing and DNSPod's
    /// email settings kept. Exits 2 when it cannot start.
    /// It starts from the world earlier `--sandbox` commands of this state directory left (orders placed, clock
    /// moved: ``SandboxSession``), so take the run lock first; ``close(_:)`` saves it again.
    static func start(faults faultsPath: String?, tls: Bool, env: [String: String], stateDirectory: String) async throws -> (server: SandboxServer, providerEnv: [String: String]) {
        let server: SandboxServer
        do {
            let faults = try faultsPath.map { try FaultPlan.load(path: $0) } ?? .none
            server = try await SandboxSession.start(stateDirectory: stateDirectory, options: SandboxOptions(faults: faults, tls: tls))
        } catch let error as SandboxWorldBusy {
            Terminal.error("bo-batch: \(error)")
            throw ExitCode(ExitStatus.locked.rawValue)
        } catch let error as FaultPlanError {
            Terminal.error("bo-batch: --sandbox-faults: \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        } catch {
            Terminal.error("bo-batch: could not start the sandbox: \(error)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        // What shapes a run but reaches no real account: pacing, options, prices, and the requests' time limit (so a
        // sandbox fault that makes answers slow shows what BO_BATCH_TIMEOUT does). Never credentials or endpoints.
        var providerEnv = env.filter { key, _ in
            key.hasSuffix("_THREADS") || key.hasSuffix("_RATE") || key.hasPrefix("DNSPOD_EMAIL") || key == "GNAME_BULK" || key == "ONEAPI_CUTOFF_HOURS"
                || key == "BO_BATCH_TIMEOUT"
        }
        providerEnv.merge(SandboxCredentials.environment(for: server)) { _, sandboxValue in sandboxValue }
        // The sandbox's DNSPod offers addresses for every domain; using the first keeps the demo complete.
        if providerEnv["DNSPOD_EMAIL"] == nil, providerEnv["DNSPOD_EMAIL_AUTO"] == nil { providerEnv["DNSPOD_EMAIL_AUTO"] = "1" }
        // The sandbox's certificate, and nothing else: it is the only server this run talks to.
        if let caFile = server.caFilePath { CurlTrust.useCAFile(caFile) }
        return (server, providerEnv)
    }

    /// The providers' environment for a command: with `sandbox`, the in-process sandbox started and pointed at;
    /// without, the real environment once its TLS settings are checked (a bad `BO_BATCH_CA_FILE` is 2).
    static func providerEnvironment(sandbox: Bool, faults: String? = nil, tls: Bool = false, env: [String: String], stateDirectory: String) async throws
        -> (server: SandboxServer?, providerEnv: [String: String])
    {
        if sandbox {
            let launched = try await start(faults: faults, tls: tls, env: env, stateDirectory: stateDirectory)
            return (launched.server, launched.providerEnv)
        }
        if let problem = CurlTrust.problem(in: env) {
            Terminal.error("bo-batch: \(problem)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        return (nil, env)
    }

    /// Saves the sandbox's world for the next `--sandbox` command, synchronously (the shutdown that follows may
    /// not finish before the process exits), then stops it.
    static func close(_ server: SandboxServer?) {
        guard let server else { return }
        do { try server.saveState(closing: true) } catch { Terminal.error("bo-batch: \(error); the next --sandbox run starts from the world saved before") }
        Task { await server.shutdown() }
    }
}
