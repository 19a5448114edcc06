import ArgumentParser
import BoBatch
import BoBatchHTTP
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
            With --tls it serves HTTPS with a self-signed certificate made at start (its
            private key never leaves memory) and exports BO_BATCH_CA_FILE, the certificate's
            file, so bo-batch trusts it. --round-trip-ms makes every connection behave like
            one across a network (TCP and TLS handshakes included): a benchmark's honest RTT.
            Connections accepted and full TLS handshakes: GET /_sandbox/connections.
            The sandbox has a clock that only moves forward: --time +2d starts it two days
            ahead of real time; GET/PUT /_sandbox/clock reads and moves it, and
            GET /_sandbox/truth?provider=yay says what became of every order placed there.
            """)

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8089

    @Option(help: ArgumentHelp("A JSON fault scenario (latency, refusals, dropped connections, ...).", valueName: "file"))
    var faults: String?

    @Option(help: "Seed for the fault dice, so a scenario repeats exactly.")
    var seed: UInt64 = 1

    @Flag(help: "Serve HTTPS with a throwaway self-signed certificate (exports BO_BATCH_CA_FILE to trust it).")
    var tls = false

    @Option(help: ArgumentHelp("Start the sandbox's clock this far ahead of real time (+2d, +36h, +90m, +1d12h): past the drops.", valueName: "offset"))
    var time: String?

    @Option(name: .customLong("round-trip-ms"), help: ArgumentHelp("Network round trip to simulate on every connection, handshakes included.", valueName: "ms"))
    var roundTripMilliseconds: Int = 0

    func run() async throws {
        var options = SandboxOptions()
        options.port = port
        options.seed = seed
        options.tls = tls
        guard roundTripMilliseconds >= 0 else {
            Terminal.error("bo-batch sandbox: --round-trip-ms must be 0 or more, not \(roundTripMilliseconds)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        options.roundTripMilliseconds = roundTripMilliseconds
        var offset: SandboxTimeOffset?
        if let time {
            do {
                offset = try SandboxTimeOffset.parse(time)
            } catch {
                Terminal.error("bo-batch sandbox: --time: \(error)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
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
        if let offset { server.clock.advance(to: offset.seconds) }
        var text = "# bo-batch sandbox listening on \(server.baseURL)\n"
        if let offset { text += "# sandbox clock \(offset) ahead of real time: \(server.clock.now())\n" }
        text += "# point bo-batch at it (sandbox credentials, not secrets): paste these lines, or eval them\n"
        var exports = SandboxCredentials.environment(for: server)
        if let caFile = server.caFilePath { exports[CurlTrust.caFileVariable] = caFile }
        for (name, value) in exports.sorted(by: { $0.key < $1.key }) {
            text += "export \(name)='\(value)'\n"
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        await SignalWaiter.waitForTermination()
        await server.shutdown()
    }
}
