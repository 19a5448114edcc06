import Foundation
import GRDB
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif

/// One of the lanes' per-pair statements (an intent's pair rows, an answer's pair rows and result versions, a
/// written file's mark), bound and stepped through SQLite's C API on a statement GRDB prepared and caches.
///
/// A lane commits a statement or two per domain, and GRDB's `execute(arguments:)` around each one (boxing every
/// value into a fresh `StatementArguments`, checking it against the statement, a closure per value, the
/// per-statement bookkeeping for observers) cost about as much as SQLite's own work: most of a Dynadot answer's
/// commit in a profile. Here each value goes straight to `sqlite3_bind_*` (text copied by SQLite, so nothing
/// Swift owns stays bound) and errors come back as GRDB's `DatabaseError`.
///
/// Only for plain INSERT/UPDATE statements run inside a transaction GRDB opened (`pool.write`): nothing GRDB
/// tracks per statement (schema changes, transaction boundaries, observers) can come from them. The statement is
/// reset before it is bound, so one left mid-way by an error is never stepped from where it stopped.
struct HotStatement {
    private let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }

    /// SQLite copies the bytes during the call (`SQLITE_TRANSIENT`).
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    init(_ statement: Statement) {
        self.statement = statement
        _ = sqlite3_reset(handle)
    }

    func bind(_ value: Int64, at index: CInt) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    func bind(_ value: Int, at index: CInt) throws {
        try bind(Int64(value), at: index)
    }

    func bind(_ value: Double, at index: CInt) throws {
        try check(sqlite3_bind_double(handle, index, value))
    }

    func bind(_ value: String?, at index: CInt) throws {
        guard var value else {
            try check(sqlite3_bind_null(handle, index))
            return
        }
        let code = value.withUTF8 { bytes -> CInt in
            guard let start = bytes.baseAddress, !bytes.isEmpty else {
                // No address would bind NULL: an empty text is bound as one.
                return sqlite3_bind_text(handle, index, "", 0, Self.transient)
            }
            return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) { text in
                sqlite3_bind_text(handle, index, text, CInt(bytes.count), Self.transient)
            }
        }
        try check(code)
    }

    /// Runs the statement to its end and resets it for the next row, keeping the bindings (a caller binds the
    /// values that stay the same once).
    func step() throws {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let failure = error(code)
            _ = sqlite3_reset(handle)
            throw failure
        }
        _ = sqlite3_reset(handle)
    }

    private func check(_ code: CInt) throws {
        guard code == SQLITE_OK else { throw error(code) }
    }

    private func error(_ code: CInt) -> DatabaseError {
        let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}
