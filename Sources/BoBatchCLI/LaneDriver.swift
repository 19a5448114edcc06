import ArgumentParser
import BoBatch
import Dispatch
import Foundation

/// Runs a job's lanes to their end under `submit`'s signal handling: the first SIGINT/SIGTERM sends nothing new
/// and waits (up to the request time limit, at most ``SubmitCommand/stopGrace``) for the answers in flight, a
/// second one exits at once; progress lines unless `quiet`. `submit` and `reclaim` both run through here.
enum LaneDriver {
    struct Outcome {
        var reports: [LaneReport]
        /// A signal stopped the lanes before they ran out of work.
        var interrupted: Bool
    }

    /// Throws `ExitCode` 3 when the lanes stopped on an error (everything recorded is kept; a rerun continues).
    /// `everyMinute` runs at the start and then every minute while the lanes work (`--metrics-file`).
    static func run(
        _ job: SubmitJob, quiet: Bool, providerEnv: [String: String], everyMinute: (@Sendable () async -> Void)? = nil
    ) async throws -> Outcome {
        let work = Task { try await job.runLanes() }
        // The answers on the wire may take up to the request time limit; the wait for them stops well inside
        // systemd's default 90 s stop timeout, and then the run ends as on a second signal.
        let grace = min(SubmitCommand.stopGrace, (try? ProviderCatalog.requestTimeoutCap(providerEnv)).flatMap { $0 } ?? SubmitCommand.stopGrace)
        let (lanesEnded, signalled) = SignalWaiter.stopGracefully(grace: grace) { work.cancel() }
        let progress = quiet ? nil : Task { await ProgressPrinter.run(job: job) }
        let periodic = everyMinute.map { tick in
            Task {
                while !Task.isCancelled {
                    await tick()
                    try? await Task.sleep(for: .seconds(60))
                }
            }
        }
        var reports: [LaneReport] = []
        defer { lanesEnded.set() }
        do {
            reports = try await work.value
            lanesEnded.set()
        } catch is CancellationError {
            lanesEnded.set()
            // What the lanes did before the signal, a halt included: it decides between 3 and 4.
            reports = await job.reportsSoFar()
        } catch {
            progress?.cancel()
            periodic?.cancel()
            Terminal.error("\nbo-batch: the run stopped: \(error). Everything recorded so far is kept; rerun to continue.")
            throw ExitCode(ExitStatus.incomplete.rawValue)
        }
        progress?.cancel()
        _ = await progress?.value
        periodic?.cancel()
        _ = await periodic?.value
        // Lanes stopped by the signal usually return their reports rather than throw: the signal itself says it.
        return Outcome(reports: reports, interrupted: signalled.isSet)
    }
}
