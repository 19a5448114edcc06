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
