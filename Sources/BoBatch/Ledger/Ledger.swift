import Foundation
import GRDB

/// The run's memory across crashes: one SQLite database (WAL) beside the lock file in the state directory.
/// Every decision that matters is committed here before the next step acts on it; result files are a
/// projection of it.
public final class Ledger: Sendable {
    public let path: String
    /// Nobody else runs SQL: every query is a named method here, so the schema and its vocabulary stay in this file.
    private let pool: DatabasePool

    public convenience init(directory: String) throws {
        try self.init(directory: directory, migratingUpTo: nil)
    }

    /// `migratingUpTo` stops after that migration: how tests build a ledger as an older version left it.
    init(directory: String, migratingUpTo lastMigration: String?) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = (directory as NSString).appendingPathComponent("ledger.sqlite")
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        // What was sent, where and when is nobody else's business: the database and its WAL are the owner's alone.
        for file in [path, path + "-wal", path + "-shm"] { chmod(file, 0o600) }
        if let lastMigration {
            try Self.migrator.migrate(pool, upTo: lastMigration)
        } else {
            try Self.migrator.migrate(pool)
        }
    }

    /// The migrations this ledger has had, in order.
    func appliedMigrations() throws -> [String] {
        try pool.read { db in try Self.migrator.appliedMigrations(db) }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    name TEXT PRIMARY KEY,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    invocations INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE domains (
                    run TEXT NOT NULL,
                    domain TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    input TEXT NOT NULL,
                    source TEXT NOT NULL,
                    drop_time REAL,
                    email TEXT,
                    version INTEGER NOT NULL DEFAULT 1,
                    written INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (run, domain)
                ) WITHOUT ROWID;
                CREATE INDEX domains_dirty ON domains(run, written, version);
                CREATE TABLE pairs (
                    run TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    domain TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    code TEXT,
                    message TEXT NOT NULL DEFAULT '',
                    reference TEXT,
                    intent INTEGER,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (run, provider, domain)
                ) WITHOUT ROWID;
                CREATE INDEX pairs_work ON pairs(run, provider, state, seq);
                CREATE INDEX pairs_memory ON pairs(provider, domain, state);
                CREATE TABLE intents (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run TEXT NOT NULL,
                    provider TEXT NOT NULL,
                    domains TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    settled_at REAL,
                    outcome TEXT
                );
                CREATE TABLE invalid (
                    run TEXT NOT NULL,
                    file TEXT NOT NULL,
                    line INTEGER NOT NULL,
                    text TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    PRIMARY KEY (run, file, line)
                ) WITHOUT ROWID;
                CREATE TABLE seen (
                    run TEXT NOT NULL,
                    domain TEXT NOT NULL,
                    PRIMARY KEY (run, domain)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2: input order index") { db in
            // Each ingest batch asks for the run's highest seq; without this index that is a scan of the whole
            // run per batch, quadratic over a million-line list.
            try db.execute(sql: "CREATE INDEX domains_seq ON domains(run, seq)")
        }
        m.registerMigration("v3: sends that may have landed") { db in
            // `attempts` counts every send; `unanswered` only those that ended without an answer (maybe processed,
            // or interrupted on the wire). A refusal is an answer: the provider did nothing.
            try db.execute(sql: "ALTER TABLE pairs ADD COLUMN unanswered INTEGER NOT NULL DEFAULT 0")
        }
        m.registerMigration("v4: the last invocation's exit facts") { db in
            // What decided the last invocation's exit code besides the pairs (a halted lane, a signal, result files
            // not written, a dry run), as JSON; NULL while an invocation is under way. `status` needs it to say the
            // code the run exited with.
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN last_invocation TEXT")
        }
        return m
    }
}

/// A domain read from the input, ready to be recorded.
public struct IngestEntry: Sendable {
    public var domain: DomainName
    public var input: String
    public var source: String
    public var attributes: DomainAttributes

    public init(domain: DomainName, input: String, source: String, attributes: DomainAttributes) {
        self.domain = domain
        self.input = input
        self.source = source
        self.attributes = attributes
    }
}

/// One pair as the lane works on it.
public struct PairRow: Sendable, Equatable {
    public var item: BackorderItem
    public var seq: Int
    public var state: PairState
    /// Every send of this pair, in every invocation (the ledger's count).
    public var attempts: Int
    /// The sends, in every invocation, that may have landed without an answer (not the refused ones): what
    /// DNSPod's single blind resend counts.
    public var unanswered: Int = 0
    /// Sends of this pair in this invocation that ended without a verdict (unclear, then proven absent): what
    /// `--max-attempts` bounds. Kept in memory only, so every invocation starts a fresh budget and
    /// the sends that isolate a bad domain in a failed batch do not use it up.
    public var tries: Int = 0
    /// Refusals of this pair in a row in this invocation (an answer resets it): what `maxRefusalsInARow` bounds.
    public var refusalsInARow: Int = 0
}

/// What the lane records for one pair.
public struct PairUpdate: Sendable {
    public var domain: DomainName
    public var state: PairState
    public var code: PairCode?
    public var message: String
    public var reference: String?
    /// The send this update closes may have landed without an answer (counted in `PairRow.unanswered`).
    public var unanswered: Bool

    public init(domain: DomainName, state: PairState, code: PairCode? = nil, message: String, reference: String? = nil, unanswered: Bool = false) {
        self.domain = domain
        self.state = state
        self.code = code
        self.message = message
        self.reference = reference
        self.unanswered = unanswered
    }
}

/// A domain whose result file is due, as the ledger holds it.
struct DomainResultRow: Sendable, Equatable {
    var domain: String
    var input: String
    var source: String
    var dropTime: Date?
    var email: String?
    /// The version read: ``Ledger/markWritten(run:_:)`` records it, so a change made since keeps the file due.
    var version: Int
    /// Every provider's pair for the domain, by provider name.
    var pairs: [PairResultRow]
}

/// One provider's pair in a result file.
struct PairResultRow: Sendable, Equatable {
    /// The provider's name as stored.
    var provider: String
    var state: PairState
    var attempts: Int
    /// The code as stored (a ``PairCode`` raw value): result files show it as it is.
    var code: String?
    var message: String
    var reference: String?
    var updated: Date
}

/// An input line that is not a domain (line 0: the whole file could not be read).
struct InvalidRow: Sendable, Equatable {
    var file: String
    var line: Int
    var text: String
    var reason: String
}

extension Ledger {
    // MARK: runs and ingestion

    /// Creates the run or reopens it; counts the invocation and forgets the previous one's exit facts.
    public func openRun(_ name: String, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO runs(name, created_at, updated_at, invocations) VALUES (?, ?, ?, 1)
                    ON CONFLICT(name) DO UPDATE SET updated_at = excluded.updated_at, invocations = invocations + 1, last_invocation = NULL
                    """,
                arguments: [name, now.timeIntervalSince1970, now.timeIntervalSince1970])
        }
    }

    public struct RunInfo: Sendable {
        public var name: String
        public var updated: Date
        public var invocations: Int
        public var domains: Int
    }

    /// Every run, the most recent first.
    public func runs() throws -> [RunInfo] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT r.name, r.updated_at, r.invocations, (SELECT COUNT(*) FROM domains d WHERE d.run = r.name) AS domains FROM runs r ORDER BY r.updated_at DESC"
            ).map { RunInfo(name: $0["name"], updated: Date(timeIntervalSince1970: $0["updated_at"]), invocations: $0["invocations"], domains: $0["domains"]) }
        }
    }

    public func runExists(_ name: String) throws -> Bool {
        try pool.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE name = ?", arguments: [name]) ?? false }
    }

    /// Records domains, keeping the first occurrence of each. Returns how many were new.
    @discardableResult
    public func ingest(run: String, _ entries: [IngestEntry]) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        return try pool.write { db in
            var seq = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM domains WHERE run = ?", arguments: [run]) ?? 0
            let statement = try db.cachedStatement(sql: """
                INSERT INTO domains(run, domain, seq, input, source, drop_time, email) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(run, domain) DO NOTHING
                """)
            let seen = try db.cachedStatement(sql: "INSERT INTO seen(run, domain) VALUES (?, ?) ON CONFLICT DO NOTHING")
            var inserted = 0
            for e in entries {
                seq += 1
                try statement.execute(arguments: [
                    run, e.domain.ascii, seq, e.input, e.source, e.attributes.dropTime?.timeIntervalSince1970, e.attributes.email,
                ])
                inserted += db.changesCount
                try seen.execute(arguments: [run, e.domain.ascii])
            }
            return inserted
        }
    }

    /// Starts counting the distinct domains this invocation reads (duplicates = read - distinct).
    public func beginIngest(run: String) throws {
        try pool.write { db in try db.execute(sql: "DELETE FROM seen WHERE run = ?", arguments: [run]) }
    }

    public func distinctSeen(run: String) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM seen WHERE run = ?", arguments: [run]) ?? 0 }
    }

    public func recordInvalid(run: String, file: String, line: Int, text: String, reason: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO invalid(run, file, line, text, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [run, file, line, text, reason])
        }
    }

    /// Makes sure every domain of the run has a pair for each provider. New pairs for a domain that an earlier
    /// run placed at the same provider within `rememberSince` start as `already`: it is not sent again.
    public func preparePairs(run: String, providers: [ProviderID], rememberSince: Date, now: Date = Date()) throws {
        try pool.write { db in
            for provider in providers {
                try db.execute(
                    sql: """
                        INSERT INTO pairs(run, provider, domain, seq, state, updated_at)
                        SELECT run, ?, domain, seq, ?, ? FROM domains WHERE run = ?
                        ON CONFLICT DO NOTHING
                        """,
                    arguments: [provider.rawValue, PairState.pending, now.timeIntervalSince1970, run])
                try db.execute(
                    sql: """
                        UPDATE pairs SET state = :already, updated_at = :now,
                            message = (SELECT 'placed in run ''' || p2.run || ''' on ' || date(p2.updated_at, 'unixepoch') || '; not sent again'
                                       FROM pairs p2 WHERE p2.provider = pairs.provider AND p2.domain = pairs.domain AND p2.run != pairs.run
                                         AND p2.state IN (:accepted, :already) AND p2.updated_at >= :since ORDER BY p2.updated_at LIMIT 1),
                            reference = (SELECT p2.reference FROM pairs p2 WHERE p2.provider = pairs.provider AND p2.domain = pairs.domain
                                         AND p2.run != pairs.run AND p2.state IN (:accepted, :already) AND p2.updated_at >= :since
                                         ORDER BY p2.updated_at LIMIT 1)
                        WHERE run = :run AND provider = :provider AND state = :pending AND attempts = 0
                          AND EXISTS (SELECT 1 FROM pairs p2 WHERE p2.provider = pairs.provider AND p2.domain = pairs.domain
                                      AND p2.run != pairs.run AND p2.state IN (:accepted, :already) AND p2.updated_at >= :since)
                        """,
                    arguments: [
                        "now": now.timeIntervalSince1970, "since": rememberSince.timeIntervalSince1970, "run": run, "provider": provider.rawValue,
                        "pending": PairState.pending, "accepted": PairState.accepted, "already": PairState.already,
                    ])
                // Only the pairs this call just marked: their result files must show it.
                try db.execute(
                    sql: """
                        UPDATE domains SET version = version + 1 WHERE run = ? AND domain IN
                            (SELECT domain FROM pairs WHERE run = ? AND provider = ? AND state = ? AND attempts = 0 AND updated_at = ?)
                        """,
                    arguments: [run, run, provider.rawValue, PairState.already, now.timeIntervalSince1970])
            }
        }
    }

    // MARK: lane work

    /// Gets a lane ready after any earlier invocation: pairs caught mid-send become `unknown` (reconciled
    /// before anything is resent); `failed` pairs (retries exhausted, lane halted) are tried again.
    public func recoverLane(run: String, provider: ProviderID, now: Date = Date()) throws -> (interrupted: Int, retried: Int) {
        try pool.write { db in
            try db.execute(
                sql: """
                    UPDATE pairs SET state = ?, updated_at = ?, unanswered = unanswered + 1,
                        message = 'interrupted after the request was committed (intent ' || COALESCE(intent, '?') || '); checking with the provider before any resend'
                    WHERE run = ? AND provider = ? AND state = ?
                    """,
                arguments: [PairState.unknown, now.timeIntervalSince1970, run, provider.rawValue, PairState.sending])
            let interrupted = db.changesCount
            try db.execute(
                sql: "UPDATE pairs SET state = ?, updated_at = ? WHERE run = ? AND provider = ? AND state = ?",
                arguments: [PairState.pending, now.timeIntervalSince1970, run, provider.rawValue, PairState.failed])
            return (interrupted, db.changesCount)
        }
    }

    /// Up to `limit` pairs in `state`, in input order, after `afterSeq`.
    public func pairs(run: String, provider: ProviderID, state: PairState, afterSeq: Int, limit: Int) throws -> [PairRow] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT p.domain, p.seq, p.state, p.attempts, p.unanswered, d.drop_time, d.email FROM pairs p
                    JOIN domains d ON d.run = p.run AND d.domain = p.domain
                    WHERE p.run = ? AND p.provider = ? AND p.state = ? AND p.seq > ? ORDER BY p.seq LIMIT ?
                    """,
                arguments: [run, provider.rawValue, state, afterSeq, limit]
            ).map(Self.pairRow)
        }
    }

    private static func pairRow(_ row: Row) -> PairRow {
        let dropTime: Double? = row["drop_time"]
        return PairRow(
            item: BackorderItem(
                domain: DomainName(validatedASCII: row["domain"]),
                attributes: DomainAttributes(dropTime: dropTime.map(Date.init(timeIntervalSince1970:)), email: row["email"])),
            seq: row["seq"], state: PairState(rawValue: row["state"]) ?? .unknown, attempts: row["attempts"], unanswered: row["unanswered"])
    }

    /// The write-ahead intent: committed before the create leaves the process. Returns the intent id.
    public func beginSend(run: String, provider: ProviderID, domains: [DomainName], now: Date = Date()) throws -> Int64 {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO intents(run, provider, domains, created_at) VALUES (?, ?, ?, ?)",
                arguments: [run, provider.rawValue, domains.map(\.ascii).joined(separator: ","), now.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            try db.execute(
                sql: """
                    UPDATE pairs SET state = ?, intent = ?, attempts = attempts + 1, updated_at = ?
                    WHERE run = ? AND provider = ? AND domain IN (SELECT value FROM json_each(?))
                    """,
                arguments: [PairState.sending, id, now.timeIntervalSince1970, run, provider.rawValue, Self.jsonArray(domains.map(\.ascii))])
            return id
        }
    }

    /// Records outcomes (and settles the intent they came from) in one transaction.
    public func record(
        run: String, provider: ProviderID, _ updates: [PairUpdate], intent: Int64? = nil, intentOutcome: IntentOutcome? = nil, now: Date = Date()
    ) throws {
        guard !updates.isEmpty || intent != nil else { return }
        try pool.write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE pairs SET state = ?, code = ?, message = ?, reference = COALESCE(?, reference), updated_at = ?, unanswered = unanswered + ?
                WHERE run = ? AND provider = ? AND domain = ?
                """)
            let bump = try db.cachedStatement(sql: "UPDATE domains SET version = version + 1 WHERE run = ? AND domain = ?")
            for u in updates {
                try statement.execute(arguments: [
                    u.state, u.code, u.message, u.reference, now.timeIntervalSince1970, u.unanswered ? 1 : 0, run, provider.rawValue, u.domain.ascii,
                ])
                try bump.execute(arguments: [run, u.domain.ascii])
            }
            if let intent {
                try db.execute(
                    sql: "UPDATE intents SET settled_at = ?, outcome = ? WHERE id = ?",
                    arguments: [now.timeIntervalSince1970, intentOutcome, intent])
            }
        }
    }

    // MARK: the last invocation's exit facts

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

    // MARK: reporting

    /// Pair counts per provider and state.
    public func stateCounts(run: String) throws -> [ProviderID: [PairState: Int]] {
        try pool.read { db in
            var out: [ProviderID: [PairState: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT provider, state, COUNT(*) AS n FROM pairs WHERE run = ? GROUP BY provider, state", arguments: [run]) {
                guard let p = ProviderID(rawValue: row["provider"]), let s = PairState(rawValue: row["state"]) else { continue }
                out[p, default: [:]][s] = row["n"]
            }
            return out
        }
    }

    /// Pairs a rerun can still move: pending, sending or failed, and `unknown` except those no provider lookup
    /// can settle (code `no-lookup`: DNSPod, sent twice without an answer; only a person can check them).
    public func resumableCount(run: String) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM pairs WHERE run = ?
                      AND (state IN (?, ?, ?) OR (state = ? AND COALESCE(code, '') != ?))
                    """,
                arguments: [run, PairState.pending, PairState.sending, PairState.failed, PairState.unknown, PairCode.noLookup]) ?? 0
        }
    }

    public func domainCount(run: String) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM domains WHERE run = ?", arguments: [run]) ?? 0 }
    }

    public func invalidCount(run: String) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM invalid WHERE run = ?", arguments: [run]) ?? 0 }
    }

    // MARK: result projection

    /// A fresh (or deleted) results directory must get every file again: every domain of the run becomes due.
    func markAllResultsUnwritten(run: String) throws {
        try pool.write { db in try db.execute(sql: "UPDATE domains SET written = 0 WHERE run = ?", arguments: [run]) }
    }

    /// Up to `limit` domains whose result file is due (changed since it was last written), in name order after
    /// `afterDomain`, each with every provider's pair: one consistent read. `movedOnly` leaves out the domains
    /// no change has touched since ingest (version 1: every pair still as it was created), for the periodic
    /// flush, which has nothing to tell about them.
    func dueResults(run: String, afterDomain: String, limit: Int, movedOnly: Bool = false) throws -> [DomainResultRow] {
        try pool.read { db in
            // Columns by position and rows by cursor: a flush reads every domain of the run, and looking columns
            // up by name (case-insensitively) and copying each row cost more than the rest of the projection.
            var results: [DomainResultRow] = []
            var index: [String: Int] = [:]
            let domains = try Row.fetchCursor(
                db,
                sql: """
                    SELECT domain, input, source, drop_time, email, version FROM domains
                    WHERE run = ? AND domain > ? AND written < version AND version > ? ORDER BY domain LIMIT ?
                    """,
                arguments: [run, afterDomain, movedOnly ? 1 : 0, limit])
            while let row = try domains.next() {
                let drop: Double? = row[3]
                let domain: String = row[0]
                index[domain] = results.count
                results.append(DomainResultRow(
                    domain: domain, input: row[1], source: row[2], dropTime: drop.map(Date.init(timeIntervalSince1970:)), email: row[4],
                    version: row[5], pairs: []))
            }
            guard !results.isEmpty else { return [] }
            // Naming every provider lets SQLite use the primary key (run, provider, domain): without it, each page
            // scanned all of the run's pairs (5 x N rows), quadratic over a big run's projection.
            let pairs = try Row.fetchCursor(
                db,
                sql: "SELECT domain, provider, state, attempts, code, message, reference, updated_at FROM pairs "
                    + "WHERE run = ? AND provider IN (SELECT value FROM json_each(?)) AND domain IN (SELECT value FROM json_each(?))",
                arguments: [run, Self.allProviders, Self.jsonArray(results.map(\.domain))])
            while let p = try pairs.next() {
                guard let i = index[p[0] as String] else { continue }
                let state: String = p[2]
                results[i].pairs.append(PairResultRow(
                    provider: p[1], state: PairState(rawValue: state) ?? .unknown, attempts: p[3], code: p[4], message: p[5], reference: p[6],
                    updated: Date(timeIntervalSince1970: p[7])))
            }
            for i in results.indices where results[i].pairs.count > 1 { results[i].pairs.sort { $0.provider < $1.provider } }
            return results
        }
    }

    /// Records that these results' files were written as read: a domain changed since stays due.
    func markWritten(run: String, _ results: [DomainResultRow]) throws {
        guard !results.isEmpty else { return }
        try pool.write { db in
            let statement = try db.cachedStatement(sql: "UPDATE domains SET written = ? WHERE run = ? AND domain = ?")
            for result in results { try statement.execute(arguments: [result.version, run, result.domain]) }
        }
    }

    /// Every input line of the run that is not a domain, by file and line.
    func invalidRows(run: String) throws -> [InvalidRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT file, line, text, reason FROM invalid WHERE run = ? ORDER BY file, line", arguments: [run])
                .map { InvalidRow(file: $0["file"], line: $0["line"], text: $0["text"], reason: $0["reason"]) }
        }
    }

    private static let allProviders = jsonArray(ProviderID.allCases.map(\.rawValue))

    private static func jsonArray(_ values: [String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: values)
        return String(decoding: data, as: UTF8.self)
    }
}
