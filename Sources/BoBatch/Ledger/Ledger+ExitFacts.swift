import Foundation
import GRDB

extension Ledger {
    // MARK: exit facts

    /// Records what decided this invocation's exit code besides the pairs, once its summary is written.
    public func recordLastInvocation(run: String, _ facts: InvocationFacts) throws {
        let json = String(decoding: try JSONEncoder().encode(facts), as: UTF8.self)
        try pool.write { db in
            try db.execute(sql: "UPDATE runs SET last_invocation = ? WHERE name = ?", arguments: [json, run])
        }
    }

    /// The last finished invocation's facts; nil while one is under way, or if it ended without a summary
    /// (killed, a second signal, an error).
    public func lastInvocation(run: String) throws -> InvocationFacts? {
        let json = try pool.read { db in
            try String.fetchOne(db, sql: "SELECT last_invocation FROM runs WHERE name = ?", arguments: [run])
        }
        return try json.map { try JSONDecoder().decode(InvocationFacts.self, from: Data($0.utf8)) }
    }

    /// Everything ``ExitStatus/decide(_:)`` needs about `run` as the ledger holds it now; `invocation` is the
    /// current invocation's, or (for `status`) the last finished one's.
    public func exitFacts(run: String, invocation: InvocationFacts) throws -> ExitFacts {
        ExitFacts(counts: try stateCounts(run: run), resumable: try resumableCount(run: run), invalidInputs: try invalidCount(run: run), invocation: invocation)
    }
}
