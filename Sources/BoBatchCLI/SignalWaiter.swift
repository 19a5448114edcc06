import BoBatch
import Dispatch
import Foundation

/// SIGINT/SIGTERM: the first asks the run to stop (requests in flight finish and are recorded, results are
/// flushed); a second one exits at once — the ledger stays consistent because every write is a transaction.
enum SignalWaiter {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let count = Counter()

    /// A one-way switch that a signal handler can read.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func increment() -> Int { lock.withLock { n += 1; return n } }
    }

    /// Calls `onFirst` on the first signal; exits with `status` on the second.
    static func install(status: Int32, onFirst: @escaping @Sendable (Int32) -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if count.increment() == 1 {
                    onFirst(sig)
                } else {
                    Terminal.error("\nbo-batch: second signal, exiting now; the ledger is consistent, rerun to continue")
                    _exit(status)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Suspends until SIGINT or SIGTERM.
    static func waitForTermination() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            install(status: 0) { _ in continuation.resume() }
        }
    }
}

extension SignalWaiter {
    /// What `submit`, `refresh` and `cancel` do on SIGINT/SIGTERM: the first signal calls `cancel` (nothing new is
    /// sent; requests on the wire finish and are recorded) and, if the lanes have not ended `grace` seconds later,
    /// exits 3; a second signal exits 3 at once. Set `lanesEnded` when they end; `signalled` says a signal came.
    static func stopGracefully(grace: Double, cancel: @escaping @Sendable () -> Void) -> (lanesEnded: Flag, signalled: Flag) {
        let lanesEnded = Flag()
        let signalled = Flag()
        install(status: ExitStatus.incomplete.rawValue) { sig in
            signalled.set()
            Terminal.error("\nbo-batch: \(sig == SIGINT ? "interrupted" : "terminated"); sending nothing new, waiting up to \(Int(grace.rounded(.up))) s for the answers of requests in flight (signal again to exit at once)")
            cancel()
            DispatchQueue.global().asyncAfter(deadline: .now() + grace + 1) {
                guard !lanesEnded.isSet else { return }
                Terminal.error("\nbo-batch: requests still in flight after \(Int(grace.rounded(.up))) s; exiting now; the rerun looks them up before anything is resent")
                _exit(ExitStatus.incomplete.rawValue)
            }
        }
        return (lanesEnded, signalled)
    }
}
