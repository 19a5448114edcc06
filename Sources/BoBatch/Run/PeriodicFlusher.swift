import Foundation

/// Writes the result files of settled domains every few seconds while the lanes run.
///
/// It runs on a thread of its own, not as a task: a flush blocks on SQLite and on the file system for up to
/// seconds, and on Swift's cooperative pool (two threads on a 2-core machine) it would hold one of the threads
/// the lanes need between two requests.
final class PeriodicFlusher: @unchecked Sendable {
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var stopping = false
    private var finished = false

    init(writer: ResultWriter) {
        let thread = Thread { [self] in
            var pause = 2.0
            while waitOrStop(seconds: pause) {
                let start = ContinuousClock.now
                _ = try? writer.flush(maxFiles: 20_000, movedOnly: true)
                // Finding the due domains reads the run's domain rows, so a flush grows with the run: waiting
                // 20 times as long as the last one took keeps the periodic flush under 5 % of a core.
                let took = (ContinuousClock.now - start).components
                pause = max(2.0, 20 * (Double(took.seconds) + Double(took.attoseconds) / 1e18))
            }
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "bo-batch result flusher"
        thread.start()
    }

    /// Waits `seconds` or until ``stop()``; false once stopping.
    private func waitOrStop(seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while !stopping, condition.wait(until: deadline) {}
        return !stopping
    }

    /// Stops the flusher and waits for a flush under way to end, so the final flush never races it.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
