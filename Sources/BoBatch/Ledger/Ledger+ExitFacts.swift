import Foundation
import GRDB

extension Ledger {
    // MARK: exit facts (the SQL is in Ledger.swift, the only file that touches the database)

    /// Everything ``ExitStatus/decide(_:)`` needs about `run` as the ledger holds it now; `invocation` is the
    /// current invocation's, or (for `status`) the last finished one's.
    public func exitFacts(run: String, invocation: InvocationFacts) throws -> ExitFacts {
        ExitFacts(counts: try stateCounts(run: run), resumable: try resumableCount(run: run), invalidInputs: try invalidCount(run: run), invocation: invocation)
    }
}
