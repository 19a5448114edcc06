import ArgumentParser
import BoBatch
import BoBatchSandbox
import Foundation

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve fake provider APIs on 127.0.0.1, to try bo-batch or test against without keys.",
        discussion: """
            Prints the environment that points bo-batch at the sandbox (export lines), then serves until
            interrupted. Paste those lines into another shell and run bo-batch submit there as usual.
            Domains whose first label starts with "taken" or "live" are not pending delete and get rejected.
            Counts of effective creates per provider and domain: GET /_sandbox/stats.
            """)

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8089

    @Option(help: ArgumentHelp("A JSON fault scenario (latency, refusals, dropped connections, ...).", valueName: "file"))
    var faults: String?

    @Option(help: "Seed for the fault dice, so a scenario repeats exactly.")
    var seed: UInt64 = 1

    func run() async throws {
        var options = SandboxOptions()
        options.port = port
        options.seed = seed
        if let faults {
            do {
                options.faults = try FaultPlan.load(path: faults)
            } catch {
                Terminal.error("bo-batch sandbox: cannot use the fault scenario \(faults): \(error)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
        let server: SandboxServer
        do {
            server = try await SandboxServer.start(options)
        } catch {
            Terminal.error("bo-batch sandbox: cannot listen on 127.0.0.1:\(port): \(error). Try another --port.")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        var text = "# bo-batch sandbox listening on \(server.baseURL)\n"
        text += "# point bo-batch at it (sandbox credentials, not secrets): paste these lines, or eval them\n"
        for (name, value) in SandboxCredentials.environment(for: server).sorted(by: { $0.key < $1.key }) {
            text += "export \(name)='\(value)'\n"
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        await SignalWaiter.waitForTermination()
        await server.shutdown()
    }
}
