import ArgumentParser
import BoBatch
import Dispatch
import Foundation

/// Runs a job's lanes to their end under `submit`'s signal handling: the first SIGINT/SIGTERM sends nothing new
/// and waits (up to the request time limit, at most ``SubmitCommand/stopGrace``) for the answers in flight, a
/// second one exits at once; progress lines unless `quiet`. `reclaim` runs through here; `submit` keeps its own
/// copy of the same steps (one could call this; left so to keep this change out of its file).
enum LaneDriver {
    struct Outcome {
        var reports: [LaneReport]
        /// A signal stopped the lanes before they ran out of work.
        var interrupted: Bool
    }

    /// Throws `ExitCode` 3 when the lanes stopped on an error (everything recorded is kept; a rerun continues).
    static func run(_ job: SubmitJob, quiet: Bool, providerEnv: [String: String]) async throws -> Outcome {
        let work = Task { try await job.runLanes() }
        let grace = min(SubmitCommand.stopGrace, (try? ProviderCatalog.requestTimeoutCap(providerEnv)).flatMap { $0 } ?? SubmitCommand.stopGrace)
        let lanesEnded = SignalWaiter.Flag()
        let signalled = SignalWaiter.Flag()
        SignalWaiter.install(status: ExitStatus.incomplete.rawValue) { sig in
            signalled.set()
            Terminal.error("\nbo-batch: \(sig == SIGINT ? "interrupted" : "terminated"); sending nothing new, waiting up to \(Int(grace.rounded(.up))) s for the answers of requests in flight (signal again to exit at once)")
            work.cancel()
            DispatchQueue.global().asyncAfter(deadline: .now() + grace + 1) {
                guard !lanesEnded.isSet else { return }
                Terminal.error("\nbo-batch: requests still in flight after \(Int(grace.rounded(.up))) s; exiting now; the rerun looks them up before anything is resent")
                _exit(ExitStatus.incomplete.rawValue)
            }
        }
        let progress = quiet ? nil : Task { await ProgressPrinter.run(job: job) }
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
            Terminal.error("\nbo-batch: the run stopped: \(error). Everything recorded so far is kept; rerun to continue.")
            throw ExitCode(ExitStatus.incomplete.rawValue)
        }
        progress?.cancel()
        _ = await progress?.value
        return Outcome(reports: reports, interrupted: signalled.isSet)
    }
}
