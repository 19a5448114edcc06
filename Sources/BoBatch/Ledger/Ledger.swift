import Foundation
import CSQLiteConfig
import GRDB
import Synchronization
#if canImport(GRDBSQLite)
import GRDBSQLite
#else
import SQLite3
#endif

/// The run's memory across crashes: one SQLite database (WAL) beside the lock file in the state directory.
/// Every decision that matters is committed here before the next step acts on it; result files are a
/// projection of it.
public final class Ledger: Sendable {
    public let path: String
    /// Nobody else runs SQL: every query is a named method here, so the schema and its vocabulary stay in this file.
    private let pool: DatabasePool
    /// Run ids the lanes' hot path has seen in a transaction that committed (see ``laneWrite(run:_:)``).
    private let committedRunIDs = Mutex<[String: Int64]>([:])

    public convenience init(directory: String) throws {
        try self.init(directory: directory, migratingUpTo: nil)
    }

    /// SQLite's memory statistics, off before the process opens its first connection: they cost every allocation
    /// SQLite makes a global mutex (4 % of a Dynadot run's CPU in a profile, most of it in the answer's commit),
    /// and nothing reads them. Once per process; too late (SQLite already initialized) changes nothing.
    private static let sqliteConfigured: Void = { _ = bo_batch_sqlite_memstatus(0) }()

    /// `migratingUpTo` stops after that migration: how tests build a ledger as an older version left it.
    init(directory: String, migratingUpTo lastMigration: String?) throws {
        _ = Self.sqliteConfigured
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

    /// Runs SQL as written: only for tests that fill a ledger as an older version left it, in that version's
    /// schema, which today's methods no longer speak.
    func executeAsOlderVersion(_ sql: String) throws {
        try pool.write { db in try db.execute(sql: sql) }
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
        m.registerMigration("v5: integer ids, names apart, pairs made when needed") { db in
            // A million-line list used to cost 5 x N pair rows and two text-keyed B-trees filled in random order, each
            // far bigger than SQLite's page cache: every line was a page miss. Now a run is an integer, a domain is
            // its run's input order (`id`, the seq lanes page by), its name lives in `names` (built once per ingest
            // from a sort, so that B-tree is filled in order), and a pair row exists only once something happened
            // to it: a domain of a prepared provider without a row is pending.
            try db.execute(sql: """
                CREATE TABLE runs_v5 (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    invocations INTEGER NOT NULL DEFAULT 0,
                    last_invocation TEXT,
                    -- Counts ingests: `names.seen` holds the one that last read a name (duplicates = read - distinct).
                    ingests INTEGER NOT NULL DEFAULT 0
                );
                INSERT INTO runs_v5(name, created_at, updated_at, invocations, last_invocation)
                    SELECT name, created_at, updated_at, invocations, last_invocation FROM runs ORDER BY created_at, name;
                -- A ledger may hold rows of a run it has no `runs` row for (written without openRun): keep them.
                INSERT INTO runs_v5(name, created_at, updated_at)
                    SELECT DISTINCT run, 0, 0 FROM (SELECT run FROM domains UNION SELECT run FROM pairs UNION SELECT run FROM invalid)
                    WHERE run NOT IN (SELECT name FROM runs_v5) ORDER BY run;

                -- The run's domains in input order: appended to in order, read in order by lanes.
                CREATE TABLE domains_v5 (
                    run_id INTEGER NOT NULL,
                    id INTEGER NOT NULL,
                    domain TEXT NOT NULL,
                    input TEXT NOT NULL,
                    source TEXT NOT NULL,
                    drop_time REAL,
                    email TEXT,
                    PRIMARY KEY (run_id, id)
                ) WITHOUT ROWID;
                INSERT INTO domains_v5(run_id, id, domain, input, source, drop_time, email)
                    SELECT r.id, d.seq, d.domain, d.input, d.source, d.drop_time, d.email FROM domains d JOIN runs_v5 r ON r.name = d.run;

                -- The run's domains by name: dedupe, lookups by name, and result files (due = written < version).
                CREATE TABLE names (
                    run_id INTEGER NOT NULL,
                    domain TEXT NOT NULL,
                    id INTEGER NOT NULL,
                    version INTEGER NOT NULL DEFAULT 1,
                    written INTEGER NOT NULL DEFAULT 0,
                    seen INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (run_id, domain)
                ) WITHOUT ROWID;
                INSERT INTO names(run_id, domain, id, version, written)
                    SELECT r.id, d.domain, d.seq, d.version, d.written FROM domains d JOIN runs_v5 r ON r.name = d.run;

                -- The providers a run was prepared for, and up to which domain: a domain up to `through` without a
                -- pair row is pending at that provider, as of `added_at`.
                CREATE TABLE run_providers (
                    run_id INTEGER NOT NULL,
                    provider TEXT NOT NULL,
                    added_at REAL NOT NULL,
                    through INTEGER NOT NULL,
                    PRIMARY KEY (run_id, provider)
                ) WITHOUT ROWID;
                INSERT INTO run_providers(run_id, provider, added_at, through)
                    SELECT r.id, p.provider, MIN(p.updated_at), MAX(p.seq) FROM pairs p JOIN runs_v5 r ON r.name = p.run GROUP BY r.id, p.provider;

                CREATE TABLE pairs_v5 (
                    run_id INTEGER NOT NULL,
                    provider TEXT NOT NULL,
                    id INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    unanswered INTEGER NOT NULL DEFAULT 0,
                    code TEXT,
                    message TEXT NOT NULL DEFAULT '',
                    reference TEXT,
                    intent INTEGER,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (run_id, provider, id)
                ) WITHOUT ROWID;
                INSERT INTO pairs_v5(run_id, provider, id, state, attempts, unanswered, code, message, reference, intent, updated_at)
                    SELECT r.id, p.provider, p.seq, p.state, p.attempts, p.unanswered, p.code, p.message, p.reference, p.intent, p.updated_at
                    FROM pairs p JOIN runs_v5 r ON r.name = p.run;

                CREATE TABLE invalid_v5 (
                    run_id INTEGER NOT NULL,
                    file TEXT NOT NULL,
                    line INTEGER NOT NULL,
                    text TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    PRIMARY KEY (run_id, file, line)
                ) WITHOUT ROWID;
                INSERT INTO invalid_v5(run_id, file, line, text, reason)
                    SELECT r.id, i.file, i.line, i.text, i.reason FROM invalid i JOIN runs_v5 r ON r.name = i.run;

                DROP TABLE seen;
                DROP TABLE invalid;
                DROP TABLE pairs;
                DROP TABLE domains;
                DROP TABLE runs;
                ALTER TABLE runs_v5 RENAME TO runs;
                ALTER TABLE domains_v5 RENAME TO domains;
                ALTER TABLE pairs_v5 RENAME TO pairs;
                ALTER TABLE invalid_v5 RENAME TO invalid;
                -- A lane's work in input order (unknown, sending, failed, explicit pending) and the counts per state.
                CREATE INDEX pairs_state ON pairs(run_id, provider, state, id);
                -- Memory across runs: the placements within `--remember-days`, oldest first.
                CREATE INDEX pairs_placed ON pairs(provider, updated_at) WHERE state IN ('accepted', 'already');
                """)
        }
        // The input lines `submit`'s filters left out of the run (`filtered.tsv`), as `invalid` keeps the lines
        // that are not domains: recorded in the ingest's transaction, so the file is rebuilt whole on any rerun.
        m.registerMigration("v6-filtered") { db in
            try db.execute(sql: """
                CREATE TABLE filtered (
                    run_id INTEGER NOT NULL,
                    file TEXT NOT NULL,
                    line INTEGER NOT NULL,
                    domain TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    PRIMARY KEY (run_id, file, line)
                ) WITHOUT ROWID;
                """)
        }
        // What became of each placed order (issue 11): `fates` holds the latest word per pair, `fate_history` every
        // change with its time (so a report can say when a domain was won). Only pairs placed (accepted/already)
        // have a fate; `pairs.state` keeps saying whether the order was placed.
        m.registerMigration("v7-fates") { db in
            try db.execute(sql: """
                CREATE TABLE fates (
                    run_id INTEGER NOT NULL,
                    provider TEXT NOT NULL,
                    id INTEGER NOT NULL,
                    fate TEXT NOT NULL,
                    detail TEXT NOT NULL DEFAULT '',
                    price TEXT,
                    currency TEXT,
                    frozen TEXT,
                    ends_at REAL,
                    -- When the fate last changed, and when a provider was last asked about it.
                    changed_at REAL NOT NULL,
                    checked_at REAL NOT NULL,
                    PRIMARY KEY (run_id, provider, id)
                ) WITHOUT ROWID;
                CREATE TABLE fate_history (
                    run_id INTEGER NOT NULL,
                    provider TEXT NOT NULL,
                    id INTEGER NOT NULL,
                    at REAL NOT NULL,
                    fate TEXT NOT NULL,
                    detail TEXT NOT NULL DEFAULT '',
                    price TEXT,
                    currency TEXT
                );
                CREATE INDEX fate_history_pair ON fate_history(run_id, provider, id, at);
                """)
        }
        // `cancel` (issue 11): a withdrawal is an intent committed before it is sent, like a create. `cancels` holds
        // each pair's cancel state (wanted, sending, unclear, cancelled, refused), attempts and sends that may have
        // landed without an answer; `cancel_intents` each cancel request. Only new tables.
        m.registerMigration("v8-cancels") { db in
            try db.execute(sql: """
                CREATE TABLE cancels (
                    run_id INTEGER NOT NULL,
                    provider TEXT NOT NULL,
                    id INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    unanswered INTEGER NOT NULL DEFAULT 0,
                    message TEXT NOT NULL DEFAULT '',
                    intent INTEGER,
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (run_id, provider, id)
                ) WITHOUT ROWID;
                CREATE TABLE cancel_intents (
                    id INTEGER PRIMARY KEY,
                    run_id INTEGER NOT NULL,
                    provider TEXT NOT NULL,
                    ids TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    settled_at REAL,
                    outcome TEXT
                );
                """)
        }
        // The report's "waits they caused" (issue 12): how long a refused create made its lane hold the refused
        // domains before resending them (Retry-After or the backoff drawn). One column on the intent it refused.
        // And the report reads one run's intents: without an index that is a scan of every run's, which a ledger
        // kept for a year of nightly runs makes long. Appended in id order per run, the index costs little.
        m.registerMigration("v9-waits") { db in
            try db.execute(sql: "ALTER TABLE intents ADD COLUMN wait REAL")
            try db.execute(sql: "CREATE INDEX intents_run ON intents(run)")
        }
        // Result files made due by a lane's answer (issue 9), keyed by the domain's id: the answer's commit used to
        // bump `names.version` by name, a random page of the name-keyed B-tree per domain (a hundred pages written
        // to the WAL per Dynadot answer); a chunk's ids are neighbours, so marking them here touches a page or two.
        // A domain is due when `names.written < names.version` (every other change) or it has a row here;
        // `changes` counts the answers since, so a file written from an older read leaves the row (still due).
        m.registerMigration("v9-hot") { db in
            try db.execute(sql: """
                CREATE TABLE result_due (
                    run_id INTEGER NOT NULL,
                    id INTEGER NOT NULL,
                    changes INTEGER NOT NULL DEFAULT 1,
                    PRIMARY KEY (run_id, id)
                ) WITHOUT ROWID;
                """)
        }
        // How many domains a run holds, and each prepared provider's count up to its mark (issue 9): the summary,
        // the exit facts, the report and the plan asked `COUNT(*)` of the run's domains up to 20 times at the end of
        // every invocation (per provider, per question), each a walk of the whole table: a quarter of a
        // 1,000,000-line dry run's CPU. The ingest adds what it kept to `runs.domains`; `preparePairs` copies that
        // into `run_providers.domains` with the mark. Domains are never deleted once an ingest committed them.
        m.registerMigration("v-wt-ingest") { db in
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN domains INTEGER NOT NULL DEFAULT 0;
                UPDATE runs SET domains = (SELECT COUNT(*) FROM domains d WHERE d.run_id = runs.id);
                ALTER TABLE run_providers ADD COLUMN domains INTEGER NOT NULL DEFAULT 0;
                UPDATE run_providers SET domains =
                    (SELECT COUNT(*) FROM domains d WHERE d.run_id = run_providers.run_id AND d.id <= run_providers.through);
                """)
        }
        // The domains whose result file a change other than a lane's answer made due (their version bumped past
        // what was written), so that the periodic flush finds what moved without walking every name of the run
        // (see ``dueResults``). Partial: a name as ingested (version 1) is not in it, so the ingest pays nothing; an
        // entry comes with a bump and goes with the file's written mark.
        m.registerMigration("v10-moved") { db in
            try db.execute(sql: "CREATE INDEX names_moved ON names(run_id, id) WHERE written < version AND version > 1")
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
    /// The version last written to its file (0: never), so the writer knows the file exists.
    var written: Int = 0
    /// The lanes' answers since the file was last written, as read from `result_due` (nil: none):
    /// ``Ledger/markWritten(run:_:)`` clears them only if no answer came since.
    var changes: Int? = nil
    /// The domain's id in its run (its input order), as read.
    var id: Int64 = 0
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
    /// What became of the placed order (issue 11), once a `refresh` or `cancel` said it; nil before.
    var fate: FateRecord? = nil
}

/// An input line that is not a domain (line 0: the whole file could not be read).
struct InvalidRow: Sendable, Equatable {
    var file: String
    var line: Int
    var text: String
    var reason: String
}

/// An input line a filter left out of the run.
struct FilteredRow: Sendable, Equatable {
    var file: String
    var line: Int
    var domain: String
    var reason: String
}

/// What one ingest made of its input.
public struct IngestTally: Sendable, Equatable {
    /// Domains the run did not hold before.
    public var new = 0
    /// Distinct domains this ingest read (duplicates = domains read - distinct).
    public var distinct = 0
}

/// Where an ingest puts what it reads, inside the ledger's one transaction for the whole input.
///
/// Lines are appended to the run's domains in input order (a B-tree filled in order, whatever the names);
/// ``finish()`` then merges them into `names` in one sorted pass, keeping each name's first line and dropping
/// the lines whose name the run already held. Nothing is seen by anyone else before that transaction commits,
/// so an interrupted ingest leaves nothing behind and the rerun reads the input again.
public final class IngestSink {
    private let db: Database
    private let runID: Int64
    private let generation: Int64
    private let base: Int64
    private var last: Int64
    /// The per-line INSERT of the run's domains: the lines left over when the input ends or its file changes.
    private var row: LineInsert
    /// The INSERT of ``batch`` lines at once, and the lines waiting for it (all of one file). One statement per
    /// line cost a statement's start and end and a descent of the domains B-tree from its root for every line
    /// (a fifth of a million-line dry run's CPU); one statement keeps its cursor on the B-tree's last page, where
    /// every new line goes, and ends once per batch.
    private var batchRow: LineInsert
    private var waiting: [WaitingLine] = []
    private var waitingFile: String?
    private static let batch = 64

    /// A line read, not yet given to SQLite: its strings are kept (retained, not copied) until its batch is bound.
    private struct WaitingLine {
        var id: Int64
        var domain: String
        var input: String
        var line: Int?
        var dropTime: Double?
        var email: String?
    }
    /// The per-line INSERT of filtered lines, made at the first one.
    private var filteredRow: LineInsert?
    private var tally = IngestTally()

    fileprivate init(db: Database, runID: Int64, generation: Int64) throws {
        self.db = db
        self.runID = runID
        self.generation = generation
        base = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM domains WHERE run_id = ?", arguments: [runID]) ?? 0
        last = base
        // `source` is "file:line", put together by SQLite from the file (bound once per file) and the line number:
        // a String built per line in Swift was a malloc and a copy for every line. Without a line (?6 NULL), ?5 is
        // the whole source as given.
        row = LineInsert(statement: try db.makeStatement(sql: """
            INSERT INTO domains(run_id, id, domain, input, source, drop_time, email)
            VALUES (?1, ?2, ?3, ?4, ?5 || COALESCE(':' || ?6, ''), ?7, ?8)
            """))
        // ?1 the run and ?2 the file, bound once; then six values per line from ?3 on (see ``flushBatch()``).
        let values = (0..<Self.batch).map { i in
            let b = 3 + 6 * i
            return "(?1, ?\(b), ?\(b + 1), ?\(b + 2), ?2 || COALESCE(':' || ?\(b + 3), ''), ?\(b + 4), ?\(b + 5))"
        }
        batchRow = LineInsert(statement: try db.makeStatement(sql: """
            INSERT INTO domains(run_id, id, domain, input, source, drop_time, email) VALUES \(values.joined(separator: ", "))
            """))
        try row.bind(runID, at: 1)
        try batchRow.bind(runID, at: 1)
        waiting.reserveCapacity(Self.batch)
    }

    /// Records a domain as read; duplicates are sorted out when the ingest ends.
    public func add(_ e: IngestEntry) throws {
        try add(domain: e.domain, input: e.input, file: e.source, line: nil, attributes: e.attributes)
    }

    /// Records a domain read at `file`:`line` (its source); duplicates are sorted out when the ingest ends.
    /// Lines are recorded a batch at a time, all of one file; what waits is written by ``flush()`` (before the
    /// ingest ends, or a line of another file comes).
    public func add(domain: DomainName, input: String, file: String, line number: Int?, attributes: DomainAttributes) throws {
        if file != waitingFile {
            try flush()
            waitingFile = file
        }
        last += 1
        waiting.append(
            WaitingLine(id: last, domain: domain.ascii, input: input, line: number, dropTime: attributes.dropTime?.timeIntervalSince1970, email: attributes.email))
        if waiting.count == Self.batch { try flushBatch() }
    }

    /// Writes a full batch of waiting lines with one statement.
    private func flushBatch() throws {
        batchRow.reset()
        if let waitingFile { try batchRow.bindFile(waitingFile, at: 2) }
        for (i, w) in waiting.enumerated() {
            let b = CInt(3 + 6 * i)
            try batchRow.bind(w.id, at: b)
            try batchRow.bind(w.domain, at: b + 1)
            try batchRow.bind(w.input, at: b + 2)
            if let line = w.line { try batchRow.bind(Int64(line), at: b + 3) } else { try batchRow.bindNull(at: b + 3) }
            if let drop = w.dropTime { try batchRow.bind(drop, at: b + 4) } else { try batchRow.bindNull(at: b + 4) }
            if let email = w.email { try batchRow.bind(email, at: b + 5) } else { try batchRow.bindNull(at: b + 5) }
        }
        try batchRow.step()
        waiting.removeAll(keepingCapacity: true)
    }

    /// Writes the lines still waiting (fewer than a batch), one statement each.
    private func flush() throws {
        guard let waitingFile, !waiting.isEmpty else { return }
        for w in waiting {
            row.reset()
            try row.bind(w.id, at: 2)
            try row.bind(w.domain, at: 3)
            try row.bind(w.input, at: 4)
            try row.bindFile(waitingFile, at: 5)
            if let line = w.line { try row.bind(Int64(line), at: 6) } else { try row.bindNull(at: 6) }
            if let drop = w.dropTime { try row.bind(drop, at: 7) } else { try row.bindNull(at: 7) }
            if let email = w.email { try row.bind(email, at: 8) } else { try row.bindNull(at: 8) }
            try row.step()
        }
        waiting.removeAll(keepingCapacity: true)
    }

    /// An input line that is not a domain (line 0: the whole file could not be read); a line recorded before is kept.
    public func invalid(file: String, line: Int, text: String, reason: String) throws {
        try db.execute(
            sql: "INSERT INTO invalid(run_id, file, line, text, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [runID, file, line, text, reason])
    }

    /// Forgets the problems earlier invocations recorded for `file` (its lines, and line 0: the file could not be
    /// opened or broke off midway), before this one reads it again: a list fixed or downloaded again since must
    /// not keep the run at exit 1. What is wrong with it now is recorded again as it is read.
    public func clearInvalid(file: String) throws {
        try db.execute(sql: "DELETE FROM invalid WHERE run_id = ? AND file = ?", arguments: [runID, file])
    }

    /// An input line a filter left out of the run (see ``DomainFilter``). Of one line, the latest reason is kept.
    /// Bound by hand like ``add(domain:input:file:line:attributes:)``: a filter may drop most of a million lines.
    public func filtered(file: String, line: Int, domain: String, reason: String) throws {
        if filteredRow == nil {
            // ?5, the file, is bound once per file (``LineInsert/bindFile(_:at:)``).
            filteredRow = LineInsert(statement: try db.makeStatement(sql: """
                INSERT INTO filtered(run_id, line, domain, reason, file) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT(run_id, file, line) DO UPDATE SET domain = excluded.domain, reason = excluded.reason
                """))
            try filteredRow!.bind(runID, at: 1)
        }
        filteredRow!.reset()
        try filteredRow!.bind(Int64(line), at: 2)
        try filteredRow!.bind(domain, at: 3)
        try filteredRow!.bind(reason, at: 4)
        try filteredRow!.bindFile(file, at: 5)
        try filteredRow!.step()
    }

    /// Forgets what earlier invocations filtered out of `file`, before this one reads it again: `filtered.tsv`
    /// then says what the filters of the latest reading of each file left out (a line they now keep is in
    /// the run, and no longer listed).
    public func clearFiltered(file: String) throws {
        filteredRow?.reset()
        try db.execute(sql: "DELETE FROM filtered WHERE run_id = ? AND file = ?", arguments: [runID, file])
    }

    /// Merges what was added into the run's names, first occurrence first.
    fileprivate func finish() throws -> IngestTally {
        try flush()
        row.reset()
        batchRow.reset()
        filteredRow?.reset()
        guard last > base else { return tally }
        let added = Int(last - base)
        // One sort of the new lines by name; the names B-tree is then walked in order. A name the run already
        // held keeps its row and its place; `seen` marks the names this ingest read, once each. SQLite may sort
        // a big input's runs on a helper thread while this one reads on (about the same CPU, less wall time on a
        // machine with a core to spare); the connection goes back to one thread after. Sorted by name and line,
        // a name's first line comes first and makes (or marks) its row; its later lines find `seen` already set
        // and change nothing, so `changesCount` is still the distinct names read. (`GROUP BY domain` with
        // `MIN(id)` gave the same rows for a quarter more of this statement's CPU: the aggregate's own steps.)
        try db.execute(sql: "PRAGMA threads = 1")
        defer { try? db.execute(sql: "PRAGMA threads = 0") }
        try db.execute(
            sql: """
                INSERT INTO names(run_id, domain, id, seen)
                SELECT :run, domain, id, :generation FROM domains WHERE run_id = :run AND id > :base ORDER BY domain, id
                ON CONFLICT(run_id, domain) DO UPDATE SET seen = excluded.seen WHERE seen != excluded.seen
                """,
            arguments: ["run": runID, "generation": generation, "base": base])
        tally.distinct += db.changesCount
        // The lines that did not become a name's row (later occurrences, names the run held before) go. Which
        // ones stay is read from the new names into a bitmap of the lines (125 kB a million): `id NOT IN (...)`
        // built SQLite a B-tree of a million random ids for it, a quarter of the whole ingest.
        var keep = [UInt64](repeating: 0, count: (added + 63) / 64)
        var kept = 0
        let ids = try Int64.fetchCursor(
            db, sql: "SELECT id FROM names WHERE run_id = ? AND seen = ? AND id > ?", arguments: [runID, generation, base])
        while let id = try ids.next() {
            let line = Int(id - base - 1)
            keep[line >> 6] |= 1 << UInt64(line & 63)
            kept += 1
        }
        tally.new += kept
        try db.execute(sql: "UPDATE runs SET domains = domains + ? WHERE id = ?", arguments: [kept, runID])
        guard kept < added else { return tally }
        // In runs of consecutive lines: a rerun of the same list is one range.
        let delete = try db.makeStatement(sql: "DELETE FROM domains WHERE run_id = ? AND id BETWEEN ? AND ?")
        func isKept(_ line: Int) -> Bool { keep[line >> 6] & (1 << UInt64(line & 63)) != 0 }
        var line = 0
        while line < added {
            if isKept(line) { line += 1; continue }
            var end = line
            while end + 1 < added, !isKept(end + 1) { end += 1 }
            try delete.execute(arguments: [runID, base + Int64(line) + 1, base + Int64(end) + 1])
            line = end + 1
        }
        return tally
    }
}

/// The ingest's one INSERT per input line, bound and stepped through SQLite's C API on GRDB's prepared statement.
///
/// A million lines a run: GRDB's `execute(arguments:)` boxed 7 values as existentials into a fresh
/// `StatementArguments`, validated them against the statement and nested a closure per value, a fifth of a dry run's
/// CPU. Here each value goes straight to `sqlite3_bind_*` (strings copied by SQLite, so nothing Swift owns is
/// left bound), the run and the file are bound once, and errors come back as GRDB's `DatabaseError`. Only for
/// plain INSERTs inside a transaction GRDB already opened: nothing GRDB tracks per statement (schema changes,
/// transaction boundaries, observers) can come from them.
private struct LineInsert {
    private let statement: Statement
    private var file: String?

    /// SQLite copies the bytes during the call (`SQLITE_TRANSIENT`).
    private static var transient: sqlite3_destructor_type { unsafeBitCast(-1, to: sqlite3_destructor_type.self) }

    init(statement: Statement) {
        self.statement = statement
    }

    /// Back to the start, keeping the bindings: the run and the file stay bound.
    func reset() {
        // Returns the last step's error, which `step()` already threw.
        _ = sqlite3_reset(statement.sqliteStatement)
    }

    func bind(_ value: Int64, at index: CInt) throws {
        try check(sqlite3_bind_int64(statement.sqliteStatement, index, value))
    }

    func bind(_ value: Double, at index: CInt) throws {
        try check(sqlite3_bind_double(statement.sqliteStatement, index, value))
    }

    func bindNull(at index: CInt) throws {
        try check(sqlite3_bind_null(statement.sqliteStatement, index))
    }

    func bind(_ value: String, at index: CInt) throws {
        var value = value
        let code = value.withUTF8 { bytes -> CInt in
            guard let start = bytes.baseAddress, !bytes.isEmpty else {
                // No address would bind NULL: an empty text is bound as one.
                return sqlite3_bind_text(statement.sqliteStatement, index, "", 0, Self.transient)
            }
            return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) { text in
                sqlite3_bind_text(statement.sqliteStatement, index, text, CInt(bytes.count), Self.transient)
            }
        }
        try check(code)
    }

    /// Binds the file (always at the same `index` for one statement) when it changed since the last line.
    mutating func bindFile(_ value: String, at index: CInt) throws {
        guard value != file else { return }
        file = nil
        try bind(value, at: index)
        file = value
    }

    func step() throws {
        let code = sqlite3_step(statement.sqliteStatement)
        guard code == SQLITE_DONE else { throw error(code) }
    }

    private func check(_ code: CInt) throws {
        guard code == SQLITE_OK else { throw error(code) }
    }

    private func error(_ code: CInt) -> DatabaseError {
        let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(statement.sqliteStatement)))
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}

extension Ledger {
    // MARK: runs and ingestion

    /// The literal SQL of a state: a partial index (`pairs_placed`) serves only queries that name its states.
    private static func sql(_ state: PairState) -> String { "'\(state.rawValue)'" }

    private static func runID(_ db: Database, _ run: String) throws -> Int64? {
        // Cached: every ledger call starts here, and compiling the statement anew (with GRDB's authorizer) cost
        // more than the lookup.
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM runs WHERE name = ?"), arguments: [run])
    }

    /// The run's id, making the run if nobody opened it (every row belongs to a run).
    private static func makeRunID(_ db: Database, _ run: String) throws -> Int64 {
        try db.execute(sql: "INSERT INTO runs(name, created_at, updated_at) VALUES (?, 0, 0) ON CONFLICT(name) DO NOTHING", arguments: [run])
        return try runID(db, run)!
    }

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
                sql: """
                    SELECT r.name, r.updated_at, r.invocations, r.domains FROM runs r
                    WHERE r.invocations > 0 ORDER BY r.updated_at DESC
                    """
            ).map { RunInfo(name: $0["name"], updated: Date(timeIntervalSince1970: $0["updated_at"]), invocations: $0["invocations"], domains: $0["domains"]) }
        }
    }

    public func runExists(_ name: String) throws -> Bool {
        try pool.read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE name = ? AND invocations > 0", arguments: [name]) ?? false }
    }

    /// Reads a whole input into the run in one transaction: `body` gives every domain and invalid line to the
    /// sink. Starts a new count of distinct domains (see ``IngestTally``).
    public func ingestInput(run: String, _ body: (IngestSink) throws -> Void) throws -> IngestTally {
        try pool.write { db in
            let runID = try Self.makeRunID(db, run)
            try db.execute(sql: "UPDATE runs SET ingests = ingests + 1 WHERE id = ?", arguments: [runID])
            let generation = try Int64.fetchOne(db, sql: "SELECT ingests FROM runs WHERE id = ?", arguments: [runID]) ?? 0
            let sink = try IngestSink(db: db, runID: runID, generation: generation)
            try body(sink)
            return try sink.finish()
        }
    }

    /// Records domains, keeping the first occurrence of each, as part of the ingest counted since
    /// ``beginIngest(run:)``. Returns how many were new.
    @discardableResult
    public func ingest(run: String, _ entries: [IngestEntry]) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        return try pool.write { db in
            let runID = try Self.makeRunID(db, run)
            let generation = try Int64.fetchOne(db, sql: "SELECT ingests FROM runs WHERE id = ?", arguments: [runID]) ?? 0
            let sink = try IngestSink(db: db, runID: runID, generation: generation)
            for e in entries { try sink.add(e) }
            return try sink.finish().new
        }
    }

    /// Starts counting the distinct domains this invocation reads (duplicates = read - distinct).
    public func beginIngest(run: String) throws {
        try pool.write { db in
            let runID = try Self.makeRunID(db, run)
            try db.execute(sql: "UPDATE runs SET ingests = ingests + 1 WHERE id = ?", arguments: [runID])
        }
    }

    public func distinctSeen(run: String) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM names n JOIN runs r ON r.id = n.run_id WHERE r.name = ? AND r.ingests > 0 AND n.seen = r.ingests",
                arguments: [run]) ?? 0
        }
    }

    public func recordInvalid(run: String, file: String, line: Int, text: String, reason: String) throws {
        try pool.write { db in
            let runID = try Self.makeRunID(db, run)
            try db.execute(
                sql: "INSERT INTO invalid(run_id, file, line, text, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [runID, file, line, text, reason])
        }
    }

    /// Makes every domain of the run pending at each provider: no row is made, a prepared domain without a pair
    /// row is pending. A pending pair, never sent, of a domain that an earlier run placed at the same provider
    /// within `rememberSince` becomes `already`: it is not sent again.
    public func preparePairs(run: String, providers: [ProviderID], rememberSince: Date, now: Date = Date()) throws {
        try pool.write { db in
            let runID = try Self.makeRunID(db, run)
            for provider in providers {
                try db.execute(
                    sql: """
                        INSERT INTO run_providers(run_id, provider, added_at, through, domains)
                        VALUES (:run, :provider, :now, (SELECT COALESCE(MAX(id), 0) FROM domains WHERE run_id = :run),
                            (SELECT domains FROM runs WHERE id = :run))
                        ON CONFLICT(run_id, provider) DO UPDATE SET through = excluded.through, domains = excluded.domains
                        """,
                    arguments: ["run": runID, "provider": provider.rawValue, "now": now.timeIntervalSince1970])
                // Walks the placements within the window, oldest first so that the message names the first one;
                // not the run's domains: a fresh ledger has none to walk.
                try db.execute(
                    sql: """
                        INSERT INTO pairs(run_id, provider, id, state, message, reference, updated_at)
                        SELECT :run, :provider, me.id, \(Self.sql(.already)),
                            'placed in run ''' || r.name || ''' on ' || date(p.updated_at, 'unixepoch') || '; not sent again', p.reference, :now
                        FROM pairs p INDEXED BY pairs_placed
                        JOIN domains od ON od.run_id = p.run_id AND od.id = p.id
                        JOIN runs r ON r.id = p.run_id
                        JOIN names me ON me.run_id = :run AND me.domain = od.domain
                        JOIN run_providers rp ON rp.run_id = :run AND rp.provider = :provider
                        WHERE p.provider = :provider AND p.state IN (\(Self.sql(.accepted)), \(Self.sql(.already))) AND p.updated_at >= :since
                          AND p.run_id != :run AND me.id <= rp.through
                        ORDER BY p.updated_at
                        ON CONFLICT(run_id, provider, id) DO UPDATE SET
                            state = excluded.state, message = excluded.message, reference = excluded.reference, updated_at = excluded.updated_at
                            WHERE pairs.state = \(Self.sql(.pending)) AND pairs.attempts = 0
                        """,
                    arguments: [
                        "run": runID, "provider": provider.rawValue, "now": now.timeIntervalSince1970, "since": rememberSince.timeIntervalSince1970,
                    ])
                guard db.changesCount > 0 else { continue }
                // Only the pairs this call just marked: their result files must show it.
                try db.execute(
                    sql: """
                        UPDATE names SET version = version + 1 WHERE run_id = :run AND domain IN
                            (SELECT d.domain FROM pairs p JOIN domains d ON d.run_id = p.run_id AND d.id = p.id
                             WHERE p.run_id = :run AND p.provider = :provider AND p.state = \(Self.sql(.already)) AND p.attempts = 0
                               AND p.updated_at = :now)
                        """,
                    arguments: ["run": runID, "provider": provider.rawValue, "now": now.timeIntervalSince1970])
            }
        }
    }

    // MARK: lane work

    /// Gets a lane ready after any earlier invocation: pairs caught mid-send become `unknown` (reconciled
    /// before anything is resent); `failed` pairs (retries exhausted, lane halted) are tried again.
    public func recoverLane(run: String, provider: ProviderID, now: Date = Date()) throws -> (interrupted: Int, retried: Int) {
        try pool.write { db in
            guard let runID = try Self.runID(db, run) else { return (0, 0) }
            try db.execute(
                sql: """
                    UPDATE pairs SET state = ?, updated_at = ?, unanswered = unanswered + 1,
                        message = 'interrupted after the request was committed (intent ' || COALESCE(intent, '?') || '); checking with the provider before any resend'
                    WHERE run_id = ? AND provider = ? AND state = ?
                    """,
                arguments: [PairState.unknown, now.timeIntervalSince1970, runID, provider.rawValue, PairState.sending])
            let interrupted = db.changesCount
            try db.execute(
                sql: "UPDATE pairs SET state = ?, updated_at = ? WHERE run_id = ? AND provider = ? AND state = ?",
                arguments: [PairState.pending, now.timeIntervalSince1970, runID, provider.rawValue, PairState.failed])
            return (interrupted, db.changesCount)
        }
    }

    /// Up to `limit` pairs in `state`, in input order, after `afterSeq`.
    ///
    /// A lane reads its work through here a page at a time: cached statements, and columns read by position (both
    /// queries select the same columns in the same order) rather than looked up by name in every row.
    public func pairs(run: String, provider: ProviderID, state: PairState, afterSeq: Int, limit: Int) throws -> [PairRow] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [] }
            let statement: Statement
            let arguments: StatementArguments
            if state == .pending {
                // The prepared domains without a row, and the pairs put back to pending, merged in input order.
                statement = try db.cachedStatement(sql: """
                    SELECT d.id AS seq, d.domain, COALESCE(p.state, \(Self.sql(.pending))) AS state,
                        COALESCE(p.attempts, 0) AS attempts, COALESCE(p.unanswered, 0) AS unanswered, d.drop_time, d.email
                    FROM run_providers rp
                    JOIN domains d ON d.run_id = rp.run_id AND d.id > :after AND d.id <= rp.through
                    LEFT JOIN pairs p ON p.run_id = d.run_id AND p.provider = rp.provider AND p.id = d.id
                    WHERE rp.run_id = :run AND rp.provider = :provider AND (p.state IS NULL OR p.state = \(Self.sql(.pending)))
                    ORDER BY d.id LIMIT :limit
                    """)
                arguments = ["run": runID, "provider": provider.rawValue, "after": afterSeq, "limit": limit]
            } else {
                statement = try db.cachedStatement(sql: """
                    SELECT p.id AS seq, d.domain, p.state, p.attempts, p.unanswered, d.drop_time, d.email FROM pairs p
                    JOIN domains d ON d.run_id = p.run_id AND d.id = p.id
                    WHERE p.run_id = ? AND p.provider = ? AND p.state = ? AND p.id > ? ORDER BY p.id LIMIT ?
                    """)
                arguments = [runID, provider.rawValue, state, afterSeq, limit]
            }
            var out: [PairRow] = []
            out.reserveCapacity(limit)
            let rows = try Row.fetchCursor(statement, arguments: arguments)
            while let row = try rows.next() { out.append(Self.pairRow(row)) }
            return out
        }
    }

    /// A row of ``pairs(run:provider:state:afterSeq:limit:)``, by position: seq, domain, state, attempts,
    /// unanswered, drop_time, email.
    private static func pairRow(_ row: Row) -> PairRow {
        let dropTime: Double? = row[5]
        let state: String = row[2]
        return PairRow(
            item: BackorderItem(
                domain: DomainName(validatedASCII: row[1]),
                attributes: DomainAttributes(dropTime: dropTime.map(Date.init(timeIntervalSince1970:)), email: row[6])),
            seq: row[0], state: PairState(rawValue: state) ?? .unknown, attempts: row[3], unanswered: row[4])
    }

    /// The write-ahead intent: committed before the create leaves the process. Returns the intent id.
    public func beginSend(run: String, provider: ProviderID, domains: [DomainName], now: Date = Date()) throws -> Int64 {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO intents(run, provider, domains, created_at) VALUES (?, ?, ?, ?)",
                arguments: [run, provider.rawValue, domains.map(\.ascii).joined(separator: ","), now.timeIntervalSince1970])
            let id = db.lastInsertedRowID
            guard let runID = try Self.runID(db, run) else { return id }
            // A pending pair may have no row yet: its first send makes it.
            try db.execute(
                sql: """
                    INSERT INTO pairs(run_id, provider, id, state, intent, attempts, updated_at)
                    SELECT n.run_id, rp.provider, n.id, :sending, :intent, 1, :now
                    FROM names n JOIN run_providers rp ON rp.run_id = n.run_id AND rp.provider = :provider
                    WHERE n.run_id = :run AND n.domain IN (SELECT value FROM json_each(:domains)) AND n.id <= rp.through
                    ON CONFLICT(run_id, provider, id) DO UPDATE SET
                        state = excluded.state, intent = excluded.intent, attempts = attempts + 1, updated_at = excluded.updated_at
                    """,
                arguments: [
                    "sending": PairState.sending, "intent": id, "now": now.timeIntervalSince1970, "provider": provider.rawValue, "run": runID,
                    "domains": Self.jsonArray(domains.map(\.ascii)),
                ])
            return id
        }
    }

    /// The write-ahead intent of a lane's create of pairs it read from ``pairs(run:provider:state:afterSeq:limit:)``,
    /// keyed by their ids: committed before the create leaves the process. Returns the intent id.
    ///
    /// This is the commit between two requests of a lane that sends one at a time (Dynadot), so it touches only
    /// what it must: the intent row and the pair rows, found by their ids (neighbours in the B-tree, the pairs of
    /// a chunk being consecutive in input order), one cached statement per row; no lookup by name, and no
    /// multi-row statement that would need a statement journal; bound through ``HotStatement``.
    func beginSend(run: String, provider: ProviderID, pairs: [(id: Int, domain: DomainName)], now: Date, within open: Database? = nil) throws -> Int64 {
        try laneWrite(run: run, within: open) { db, runID in
            let insert = HotStatement(try db.cachedStatement(sql: "INSERT INTO intents(run, provider, domains, created_at) VALUES (?1, ?2, ?3, ?4)"))
            try insert.bind(run, at: 1)
            try insert.bind(provider.rawValue, at: 2)
            try insert.bind(pairs.count == 1 ? pairs[0].domain.ascii : pairs.map(\.domain.ascii).joined(separator: ","), at: 3)
            try insert.bind(now.timeIntervalSince1970, at: 4)
            try insert.step()
            let intent = db.lastInsertedRowID
            guard let runID else { return intent }
            // A pending pair may have no row yet: its first send makes it.
            let upsert = HotStatement(try db.cachedStatement(sql: """
                INSERT INTO pairs(run_id, provider, id, state, intent, attempts, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
                ON CONFLICT(run_id, provider, id) DO UPDATE SET
                    state = excluded.state, intent = excluded.intent, attempts = attempts + 1, updated_at = excluded.updated_at
                """))
            try upsert.bind(runID, at: 1)
            try upsert.bind(provider.rawValue, at: 2)
            try upsert.bind(PairState.sending.rawValue, at: 4)
            try upsert.bind(intent, at: 5)
            try upsert.bind(now.timeIntervalSince1970, at: 6)
            for pair in pairs {
                try upsert.bind(pair.id, at: 3)
                try upsert.step()
            }
            return intent
        }
    }

    /// Records outcomes (and settles the intent they came from) in one transaction.
    public func record(
        run: String, provider: ProviderID, _ updates: [PairUpdate], intent: Int64? = nil, intentOutcome: IntentOutcome? = nil, now: Date = Date(),
        sent: Date? = nil
    ) throws {
        guard !updates.isEmpty || intent != nil else { return }
        try pool.write { db in
            if !updates.isEmpty, let runID = try Self.runID(db, run) {
                // A pending pair may have no row yet: its first outcome makes it.
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO pairs(run_id, provider, id, state, code, message, reference, updated_at, unanswered)
                    SELECT n.run_id, rp.provider, n.id, ?, ?, ?, ?, ?, ?
                    FROM names n JOIN run_providers rp ON rp.run_id = n.run_id AND rp.provider = ?
                    WHERE n.run_id = ? AND n.domain = ? AND n.id <= rp.through
                    ON CONFLICT(run_id, provider, id) DO UPDATE SET
                        state = excluded.state, code = excluded.code, message = excluded.message, reference = COALESCE(excluded.reference, reference),
                        updated_at = excluded.updated_at, unanswered = unanswered + excluded.unanswered
                    """)
                let bump = try db.cachedStatement(sql: "UPDATE names SET version = version + 1 WHERE run_id = ? AND domain = ?")
                for u in updates {
                    try statement.execute(arguments: [
                        u.state, u.code, u.message, u.reference, now.timeIntervalSince1970, u.unanswered ? 1 : 0, provider.rawValue, runID, u.domain.ascii,
                    ])
                    try bump.execute(arguments: [runID, u.domain.ascii])
                }
            }
            if let intent {
                try Self.settle(db, intent: intent, outcome: intentOutcome, now: now, sent: sent)
            }
        }
    }

    /// The lane's hot path: records the outcomes of a create of pairs the lane read by id, bumps their domains'
    /// result versions and settles the intent, in one transaction. The same rows as
    /// ``record(run:provider:_:intent:intentOutcome:now:)`` makes for those pairs, but each pair row is found by
    /// its id (the chunk's rows are neighbours in the B-tree, and the lane's intent made them all) instead of
    /// through the run's names and providers, and bound through ``HotStatement``: this is the commit between two
    /// requests of a lane that sends one at a time, and for the one-domain-a-call providers a commit per domain.
    func recordAnswer(
        run: String, provider: ProviderID, _ updates: [(id: Int, update: PairUpdate)], intent: Int64, outcome: IntentOutcome, now: Date,
        sent: Date? = nil, within open: Database? = nil
    ) throws {
        try laneWrite(run: run, within: open) { db, runID in
            if !updates.isEmpty, let runID {
                // The intent made every row of the chunk, so an UPDATE by primary key finds it (cheaper than an
                // upsert, which first tries to insert); the upsert stays for a row that is somehow not there.
                let update = HotStatement(try db.cachedStatement(sql: """
                    UPDATE pairs SET state = ?4, code = ?5, message = ?6, reference = COALESCE(?7, reference), updated_at = ?8,
                        unanswered = unanswered + ?9
                    WHERE run_id = ?1 AND provider = ?2 AND id = ?3
                    """))
                let upsert = HotStatement(try db.cachedStatement(sql: """
                    INSERT INTO pairs(run_id, provider, id, state, code, message, reference, updated_at, unanswered)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                    ON CONFLICT(run_id, provider, id) DO UPDATE SET
                        state = excluded.state, code = excluded.code, message = excluded.message, reference = COALESCE(excluded.reference, reference),
                        updated_at = excluded.updated_at, unanswered = unanswered + excluded.unanswered
                    """))
                // The domain's result file is due: marked by id (see migration "v9-hot"), not by bumping
                // `names.version`, whose name-keyed page is a random one per domain.
                let due = HotStatement(try db.cachedStatement(sql: """
                    INSERT INTO result_due(run_id, id) VALUES (?1, ?2) ON CONFLICT(run_id, id) DO UPDATE SET changes = changes + 1
                    """))
                for statement in [update, upsert] {
                    try statement.bind(runID, at: 1)
                    try statement.bind(provider.rawValue, at: 2)
                    try statement.bind(now.timeIntervalSince1970, at: 8)
                }
                try due.bind(runID, at: 1)
                for (id, u) in updates {
                    var statement = update
                    for _ in 0..<2 {
                        try statement.bind(id, at: 3)
                        try statement.bind(u.state.rawValue, at: 4)
                        try statement.bind(u.code?.rawValue, at: 5)
                        try statement.bind(u.message, at: 6)
                        try statement.bind(u.reference, at: 7)
                        try statement.bind(u.unanswered ? 1 : 0, at: 9)
                        try statement.step()
                        if db.changesCount > 0 { break }
                        statement = upsert
                    }
                    try due.bind(id, at: 2)
                    try due.step()
                }
            }
            try Self.settle(db, intent: intent, outcome: outcome, now: now, sent: sent)
        }
    }

    /// Settles an intent; `sent`, when the request left later than the intent was committed (a lane commits the
    /// next intent while the request before it is on the wire), becomes its start, which the report's latencies
    /// and throughput are measured from.
    private static func settle(_ db: Database, intent: Int64, outcome: IntentOutcome?, now: Date, sent: Date?) throws {
        let settle = HotStatement(try db.cachedStatement(sql: sent == nil
            ? "UPDATE intents SET settled_at = ?1, outcome = ?2 WHERE id = ?3"
            : "UPDATE intents SET settled_at = ?1, outcome = ?2, created_at = ?4 WHERE id = ?3"))
        try settle.bind(now.timeIntervalSince1970, at: 1)
        try settle.bind(outcome?.rawValue, at: 2)
        try settle.bind(intent, at: 3)
        if let sent { try settle.bind(sent.timeIntervalSince1970, at: 4) }
        try settle.step()
    }

    /// Takes back the intent of a create that never left (committed ahead of its request, then the lane stopped):
    /// its pairs are pending again, as before ``beginSend(run:provider:pairs:now:)``, and the intent is gone, since
    /// no request was made. Only pairs still `sending` under this intent are touched.
    func withdrawSend(run: String, provider: ProviderID, intent: Int64, now: Date) throws {
        try pool.write { db in
            if let runID = try Self.runID(db, run) {
                try db.execute(
                    sql: """
                        UPDATE pairs SET state = ?, attempts = MAX(attempts - 1, 0), intent = NULL, updated_at = ?
                        WHERE run_id = ? AND provider = ? AND state = ? AND intent = ?
                        """,
                    arguments: [PairState.pending, now.timeIntervalSince1970, runID, provider.rawValue, PairState.sending, intent])
            }
            try db.execute(sql: "DELETE FROM intents WHERE id = ? AND settled_at IS NULL", arguments: [intent])
        }
    }

    /// One write transaction of a lane's hot path (an intent, an answer), given the run's id (nil when the run is
    /// unknown).
    ///
    /// Two costs GRDB's `write` adds to every one of these small commits are cut here: GRDB compiles its
    /// `BEGIN IMMEDIATE TRANSACTION` and `COMMIT TRANSACTION` anew for every transaction (through its authorizer),
    /// here they are cached statements; and the run's id, looked up by name in every transaction, comes from
    /// `committedRunIDs` once a transaction that read it has committed. Only then: an id read (or made) in a
    /// transaction that rolls back is never remembered, and runs are never deleted, so a remembered id stays the
    /// run's. An error rolls the transaction back, as `write` does.
    private func laneWrite<T>(run: String, _ body: (Database, Int64?) throws -> T) throws -> T {
        let known = committedRunIDs.withLock { $0[run] }
        var read: Int64?
        let value = try pool.writeWithoutTransaction { db -> T in
            try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
            do {
                let runID = try known ?? Self.runID(db, run)
                let value = try body(db, runID)
                try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
                read = runID
                return value
            } catch {
                if db.isInsideTransaction { try? db.rollback() }
                throw error
            }
        }
        if known == nil, let read { committedRunIDs.withLock { $0[run] = read } }
        return value
    }

    /// One transaction that several of a lane's hot-path writes join, each called with `within:` the database
    /// `body` is given: a worker's held answer and its next intent commit together, one commit (and one write of
    /// the pages they share) instead of two. All of them land, or none: an error rolls every one back.
    func laneTransaction<T>(run: String, _ body: (Database) throws -> T) throws -> T {
        try laneWrite(run: run) { db, _ in try body(db) }
    }

    /// `laneWrite`, or, `within` a transaction ``laneTransaction(run:_:)`` opened, the body alone in that one.
    private func laneWrite<T>(run: String, within open: Database?, _ body: (Database, Int64?) throws -> T) throws -> T {
        guard let open else { return try laneWrite(run: run, body) }
        return try body(open, try committedRunIDs.withLock { $0[run] } ?? Self.runID(open, run))
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

    /// Per prepared provider: how many of the run's domains up to its mark have no pair row (they are pending).
    /// The domains up to the mark were counted when it was set (`run_providers.domains`), not walked here.
    private static func rowless(_ db: Database, runID: Int64) throws -> [(provider: String, pending: Int)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT rp.provider,
                    rp.domains - (SELECT COUNT(*) FROM pairs p WHERE p.run_id = rp.run_id AND p.provider = rp.provider) AS n
                FROM run_providers rp WHERE rp.run_id = ?
                """,
            arguments: [runID]
        ).map { ($0["provider"], $0["n"]) }
    }

    /// Rows of `table` (pairs, cancels) of the run per provider and `state`.
    private static func countsByProvider<State: RawRepresentable & Hashable>(_ db: Database, table: String, runID: Int64, _: State.Type) throws
        -> [ProviderID: [State: Int]] where State.RawValue == String
    {
        var out: [ProviderID: [State: Int]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT provider, state, COUNT(*) AS n FROM \(table) WHERE run_id = ? GROUP BY provider, state", arguments: [runID]) {
            guard let p = ProviderID(rawValue: row["provider"]), let s = State(rawValue: row["state"]) else { continue }
            out[p, default: [:]][s] = row["n"]
        }
        return out
    }

    /// Pair counts per provider and state.
    public func stateCounts(run: String) throws -> [ProviderID: [PairState: Int]] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [:] }
            var out = try Self.countsByProvider(db, table: "pairs", runID: runID, PairState.self)
            for r in try Self.rowless(db, runID: runID) where r.pending > 0 {
                guard let p = ProviderID(rawValue: r.provider) else { continue }
                out[p, default: [:]][.pending, default: 0] += r.pending
            }
            return out
        }
    }

    /// Pairs a rerun can still move: pending, sending or failed, and `unknown` except those no provider lookup
    /// can settle (code `no-lookup`: DNSPod, sent twice without an answer; only a person can check them).
    public func resumableCount(run: String) throws -> Int {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return 0 }
            let rows = try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM pairs WHERE run_id = ?
                      AND (state IN (?, ?, ?) OR (state = ? AND COALESCE(code, '') != ?))
                    """,
                arguments: [runID, PairState.pending, PairState.sending, PairState.failed, PairState.unknown, PairCode.noLookup]) ?? 0
            return try rows + Self.rowless(db, runID: runID).reduce(0) { $0 + $1.pending }
        }
    }

    public func domainCount(run: String) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT domains FROM runs WHERE name = ?", arguments: [run]) ?? 0
        }
    }

    public func invalidCount(run: String) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM invalid WHERE run_id = (SELECT id FROM runs WHERE name = ?)", arguments: [run]) ?? 0
        }
    }

    // MARK: result projection

    /// A fresh (or deleted) results directory must get every file again: every domain of the run becomes due.
    func markAllResultsUnwritten(run: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE names SET written = 0 WHERE run_id = (SELECT id FROM runs WHERE name = ?)", arguments: [run])
        }
    }

    /// Up to `limit` domains whose result file is due (changed since it was last written), in name order after
    /// `afterDomain`, each with every provider's pair: one consistent read. `movedOnly` leaves out the domains
    /// no change has touched since ingest (version 1: every pair still as it was created), for the periodic
    /// flush, which has nothing to tell about them.
    ///
    /// `known` gives a domain's one pair as its lane just recorded it (``ResultFeed``; only for a run with a single
    /// provider, whose name it holds; never give it for a run with another): such a domain's pairs and fates are
    /// not read again.
    func dueResults(
        run: String, afterDomain: String, limit: Int, movedOnly: Bool = false, known: ((Int64) -> PairResultRow?)? = nil
    ) throws -> [DomainResultRow] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [] }
            // Columns by position and rows by cursor: a flush reads every due domain of the run, and looking columns
            // up by name (case-insensitively) and copying each row cost more than the rest of the projection.
            var results: [DomainResultRow] = []
            var ids: [Int64] = []
            var index: [Int64: Int] = [:]
            // Statements cached: a flush reads a page of a thousand domains at a time, and preparing its three
            // statements anew per page (GRDB's authorizer included) was 7 % of the read.
            // What moved, for the periodic flush, is found from where it is marked: a lane's answers in `result_due`,
            // any other change in the partial index `names_moved` (migration "v10-moved"). Walking every name of the
            // run to find them made each periodic flush cost as much as the run was big: for a one-domain-a-call lane,
            // 13 µs per domain at 5,000 domains, growing with the run. `INDEXED BY`: without statistics SQLite
            // rates the primary key's range as good as the partial index and walks every name again. The final flush
            // walks the names, as it must write every file not written yet.
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: movedOnly
                    ? """
                    SELECT n.domain, n.id, n.version, d.input, d.source, d.drop_time, d.email, n.written, r.changes FROM
                    (SELECT id FROM result_due WHERE run_id = ?1
                        UNION SELECT id FROM names INDEXED BY names_moved WHERE run_id = ?1 AND written < version AND version > 1) due
                    JOIN domains d ON d.run_id = ?1 AND d.id = due.id
                    JOIN names n ON n.run_id = ?1 AND n.domain = d.domain
                    LEFT JOIN result_due r ON r.run_id = ?1 AND r.id = due.id
                    WHERE n.domain > ?2
                    ORDER BY n.domain LIMIT ?3
                    """
                    : """
                    SELECT n.domain, n.id, n.version, d.input, d.source, d.drop_time, d.email, n.written, r.changes FROM names n
                    JOIN domains d ON d.run_id = n.run_id AND d.id = n.id
                    LEFT JOIN result_due r ON r.run_id = n.run_id AND r.id = n.id
                    WHERE n.run_id = ?1 AND n.domain > ?2 AND (n.written < n.version OR r.changes IS NOT NULL)
                    ORDER BY n.domain LIMIT ?3
                    """),
                arguments: [runID, afterDomain, limit])
            // The ids whose pairs are read here: all but those `known` gives.
            var unknown: [Int64] = []
            while let row = try rows.next() {
                let id: Int64 = row[1]
                let drop: Double? = row[5]
                let fed = known?(id)
                index[id] = results.count
                ids.append(id)
                if fed == nil { unknown.append(id) }
                results.append(DomainResultRow(
                    domain: row[0], input: row[3], source: row[4], dropTime: drop.map(Date.init(timeIntervalSince1970:)), email: row[6],
                    version: row[2], written: row[7], changes: row[8], id: id, pairs: fed.map { [$0] } ?? []))
            }
            guard !results.isEmpty else { return [] }
            guard !unknown.isEmpty else { return results }
            // Naming the providers lets SQLite use the primary key (run_id, provider, id): the run's own, as pair rows
            // exist only for providers the run was prepared for (naming all five looked up five rows per domain,
            // four of them absent in a one-provider run).
            let idList = "[" + unknown.map(String.init).joined(separator: ",") + "]"
            let pairs = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT id, provider, state, attempts, code, message, reference, updated_at FROM pairs "
                        + "WHERE run_id = ?1 AND provider IN (SELECT provider FROM run_providers WHERE run_id = ?1) AND id IN (SELECT value FROM json_each(?2))"),
                arguments: [runID, idList])
            while let p = try pairs.next() {
                guard let i = index[p[0] as Int64] else { continue }
                let state: String = p[2]
                results[i].pairs.append(PairResultRow(
                    provider: p[1], state: PairState(rawValue: state) ?? .unknown, attempts: p[3], code: p[4], message: p[5], reference: p[6],
                    updated: Date(timeIntervalSince1970: p[7])))
            }
            // Fates: only pairs a refresh or a cancel has spoken about have one (none at all before the first refresh).
            let fates = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT id, provider, fate, detail, price, currency, frozen, ends_at, changed_at, checked_at FROM fates "
                        + "WHERE run_id = ?1 AND provider IN (SELECT provider FROM run_providers WHERE run_id = ?1) AND id IN (SELECT value FROM json_each(?2))"),
                arguments: [runID, idList])
            while let f = try fates.next() {
                guard let i = index[f[0] as Int64], let fate = Fate(rawValue: f[2]) else { continue }
                let provider: String = f[1]
                guard let p = results[i].pairs.firstIndex(where: { $0.provider == provider }) else { continue }
                let ends: Double? = f[7]
                results[i].pairs[p].fate = FateRecord(
                    report: FateReport(fate: fate, detail: f[3], price: f[4], currency: f[5], frozen: f[6], endsAt: ends.map(Date.init(timeIntervalSince1970:))),
                    changedAt: Date(timeIntervalSince1970: f[8]), checkedAt: Date(timeIntervalSince1970: f[9]))
            }
            // A prepared provider without a row for the domain: pending since the provider was added to the run.
            for rp in try Row.fetchAll(db.cachedStatement(sql: "SELECT provider, added_at, through FROM run_providers WHERE run_id = ?"), arguments: [runID]) {
                let provider: String = rp["provider"]
                let through: Int64 = rp["through"]
                let added = Date(timeIntervalSince1970: rp["added_at"])
                for i in results.indices where ids[i] <= through && !results[i].pairs.contains(where: { $0.provider == provider }) {
                    results[i].pairs.append(PairResultRow(provider: provider, state: .pending, attempts: 0, code: nil, message: "", reference: nil, updated: added))
                }
            }
            for i in results.indices where results[i].pairs.count > 1 { results[i].pairs.sort { $0.provider < $1.provider } }
            return results
        }
    }

    /// The providers the run was ever prepared for, by their stored names, sorted.
    func runProviderNames(run: String) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT provider FROM run_providers WHERE run_id = (SELECT id FROM runs WHERE name = ?) ORDER BY provider", arguments: [run])
        }
    }

    /// Records that these results' files were written as read: a domain changed since stays due.
    func markWritten(run: String, _ results: [DomainResultRow]) throws {
        guard !results.isEmpty else { return }
        try pool.write { db in
            guard let runID = try Self.runID(db, run) else { return }
            // A statement per file written: bound through ``HotStatement``.
            let statement = HotStatement(try db.cachedStatement(sql: "UPDATE names SET written = ?1 WHERE run_id = ?2 AND domain = ?3"))
            // A lane's due mark (migration "v9-hot") goes with the file, unless an answer came since it was read.
            let clear = HotStatement(try db.cachedStatement(sql: "DELETE FROM result_due WHERE run_id = ?1 AND id = ?2 AND changes = ?3"))
            try statement.bind(runID, at: 2)
            try clear.bind(runID, at: 1)
            for result in results {
                // Due by a lane's mark alone, its written version is already the one read: no name-keyed page to write.
                if result.written != result.version {
                    try statement.bind(result.version, at: 1)
                    try statement.bind(result.domain, at: 3)
                    try statement.step()
                }
                if let changes = result.changes {
                    try clear.bind(result.id, at: 2)
                    try clear.bind(changes, at: 3)
                    try clear.step()
                }
            }
        }
    }

    /// Every input line of the run that is not a domain, by file and line.
    func invalidRows(run: String) throws -> [InvalidRow] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT file, line, text, reason FROM invalid WHERE run_id = (SELECT id FROM runs WHERE name = ?) ORDER BY file, line",
                arguments: [run]
            ).map { InvalidRow(file: $0["file"], line: $0["line"], text: $0["text"], reason: $0["reason"]) }
        }
    }

    /// Every input line of the run that a filter left out, by file and line.
    func filteredRows(run: String) throws -> [FilteredRow] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT file, line, domain, reason FROM filtered WHERE run_id = (SELECT id FROM runs WHERE name = ?) ORDER BY file, line",
                arguments: [run]
            ).map { FilteredRow(file: $0[0], line: $0[1], domain: $0[2], reason: $0[3]) }
        }
    }

    /// What `filtered.tsv` holds, counted: lines per reason, and how many distinct filtered names the run holds
    /// all the same (read before the filters were set, or kept from another line of the input).
    public func filteredCounts(run: String) throws -> (byReason: [String: Int], inRun: Int) {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return ([:], 0) }
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT reason, COUNT(*) AS n FROM filtered WHERE run_id = ? GROUP BY reason", arguments: [runID]) {
                counts[row["reason"]] = row["n"]
            }
            let inRun = try Int.fetchOne(
                db, sql: "SELECT COUNT(DISTINCT f.domain) FROM filtered f JOIN names n ON n.run_id = f.run_id AND n.domain = f.domain WHERE f.run_id = ?",
                arguments: [runID]) ?? 0
            return (counts, inRun)
        }
    }

    private static let allProviders = jsonArray(ProviderID.allCases.map(\.rawValue))

    private static func jsonArray(_ values: [String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: values)
        return String(decoding: data, as: UTF8.self)
    }
}

// MARK: plan and caps

/// One group of a provider's pairs in a run, as the plan counts them (see ``Ledger/planTally(run:provider:)``).
public struct PlanTallyRow: Sendable, Equatable {
    public var state: PairState
    /// `skipped` by a cap (code `cap`): sent again when a rerun's cap allows it.
    public var capSkipped: Bool
    /// A create went out for these pairs in an earlier invocation (`attempts > 0`).
    public var sentBefore: Bool
    public var count: Int

    public init(state: PairState, capSkipped: Bool, sentBefore: Bool, count: Int) {
        self.state = state
        self.capSkipped = capSkipped
        self.sentBefore = sentBefore
        self.count = count
    }
}

/// A pair this invocation would send (pending, failed, or skipped by a cap), in input order.
public struct PlanCandidate: Sendable, Equatable {
    /// The domain's place in the run's input (the pair's id).
    public var seq: Int
    public var domain: String
    /// Sent in an earlier invocation (refused, or proven absent): it already counts against `--max-domains`.
    public var sentBefore: Bool
}

extension Ledger {
    /// Each prepared provider's pairs in `run`, grouped by state, cap skip and whether they were sent before; the
    /// prepared domains without a row are one `pending`, never-sent group. For the plan: what is left to send,
    /// what is settled, and what earlier invocations already sent. One consistent read; the run's domains up to
    /// each provider's mark were counted when the mark was set (`run_providers.domains`), so a million-line run's
    /// plan walks none of them.
    public func planTally(run: String) throws -> [ProviderID: [PlanTallyRow]] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [:] }
            var out: [ProviderID: [PlanTallyRow]] = [:]
            var rows: [ProviderID: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT provider, state, (state = \(Self.sql(.skipped)) AND COALESCE(code, '') = :cap) AS capped, attempts > 0 AS sent,
                        COUNT(*) AS n
                    FROM pairs WHERE run_id = :run GROUP BY 1, 2, 3, 4
                    """,
                arguments: ["run": runID, "cap": PairCode.cap.rawValue])
            {
                guard let provider = ProviderID(rawValue: row["provider"]), let state = PairState(rawValue: row["state"]) else { continue }
                let n: Int = row["n"]
                rows[provider, default: 0] += n
                out[provider, default: []].append(PlanTallyRow(state: state, capSkipped: row["capped"], sentBefore: row["sent"], count: n))
            }
            for rp in try Row.fetchAll(db, sql: "SELECT provider, domains FROM run_providers WHERE run_id = ?", arguments: [runID]) {
                guard let provider = ProviderID(rawValue: rp["provider"]) else { continue }
                let domains: Int = rp["domains"]
                let rowless = domains - rows[provider, default: 0]
                out[provider, default: []].append(PlanTallyRow(state: .pending, capSkipped: false, sentBefore: false, count: max(0, rowless)))
            }
            return out
        }
    }

    /// Up to `limit` pairs of `provider` that this invocation would send, in input order after `afterSeq`: the
    /// prepared domains without a row, and the pairs `pending`, `failed` or skipped by a cap.
    public func planCandidates(run: String, provider: ProviderID, afterSeq: Int, limit: Int) throws -> [PlanCandidate] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.domain, COALESCE(p.attempts, 0) > 0 AS sent
                    FROM run_providers rp
                    JOIN domains d ON d.run_id = rp.run_id AND d.id > :after AND d.id <= rp.through
                    LEFT JOIN pairs p ON p.run_id = d.run_id AND p.provider = rp.provider AND p.id = d.id
                    WHERE rp.run_id = :run AND rp.provider = :provider
                      AND (p.state IS NULL OR p.state IN (\(Self.sql(.pending)), \(Self.sql(.failed)))
                           OR (p.state = \(Self.sql(.skipped)) AND p.code = :cap))
                    ORDER BY d.id LIMIT :limit
                    """,
                arguments: ["run": runID, "provider": provider.rawValue, "after": afterSeq, "limit": limit, "cap": PairCode.cap.rawValue]
            ).map { PlanCandidate(seq: $0["id"], domain: $0["domain"], sentBefore: $0["sent"]) }
        }
    }

    /// Applies a provider's cap in one transaction: the pairs it would send after `keepThrough` (none when it is
    /// nil: the cap, if any, allows them all) become `skipped` with code `cap` and `reason`; pairs skipped by an
    /// earlier invocation's cap up to `keepThrough` (all of them when nil) are pending again, so that a rerun with
    /// a higher cap, or none, sends them. Returns how many pairs were skipped and released.
    @discardableResult
    public func applyCap(run: String, provider: ProviderID, keepThrough: Int?, reason: String, now: Date = Date()) throws -> (skipped: Int, released: Int) {
        try pool.write { db in
            guard let runID = try Self.runID(db, run) else { return (0, 0) }
            let args: StatementArguments = [
                "run": runID, "provider": provider.rawValue, "keep": keepThrough ?? Int.max, "now": now.timeIntervalSince1970,
                "cap": PairCode.cap.rawValue, "reason": reason,
            ]
            try db.execute(
                sql: """
                    UPDATE pairs SET state = \(Self.sql(.pending)), code = NULL, message = '', updated_at = :now
                    WHERE run_id = :run AND provider = :provider AND state = \(Self.sql(.skipped)) AND code = :cap AND id <= :keep
                    """,
                arguments: args)
            let released = db.changesCount
            var skipped = 0
            if keepThrough != nil {
                // The prepared domains without a row get one; pending and failed rows (sent before or not) are skipped.
                try db.execute(
                    sql: """
                        INSERT INTO pairs(run_id, provider, id, state, code, message, updated_at)
                        SELECT :run, :provider, d.id, \(Self.sql(.skipped)), :cap, :reason, :now
                        FROM run_providers rp JOIN domains d ON d.run_id = rp.run_id AND d.id > :keep AND d.id <= rp.through
                        WHERE rp.run_id = :run AND rp.provider = :provider
                        ON CONFLICT(run_id, provider, id) DO UPDATE SET
                            state = excluded.state, code = excluded.code, message = excluded.message, updated_at = excluded.updated_at
                            WHERE pairs.state IN (\(Self.sql(.pending)), \(Self.sql(.failed)))
                               OR (pairs.state = \(Self.sql(.skipped)) AND pairs.code = excluded.code AND pairs.message != excluded.message)
                        """,
                    arguments: args)
                skipped = db.changesCount
            }
            if released + skipped > 0 {
                // Only the pairs this call just changed: their result files must show it.
                try db.execute(
                    sql: """
                        UPDATE names SET version = version + 1 WHERE run_id = :run AND domain IN
                            (SELECT d.domain FROM pairs p JOIN domains d ON d.run_id = p.run_id AND d.id = p.id
                             WHERE p.run_id = :run AND p.provider = :provider AND p.updated_at = :now
                               AND (p.code IS NULL OR p.code = :cap) AND p.state IN (\(Self.sql(.pending)), \(Self.sql(.skipped))))
                        """,
                    arguments: args)
            }
            return (skipped, released)
        }
    }
}

// MARK: - fates (issue 11)

/// A placed order as the ledger holds it, with its fate so far.
public struct PlacedOrderRow: Sendable, Equatable {
    /// The pair's id (its domain's place in the run's input order): what ``Ledger/placedOrders(run:provider:afterID:limit:includeFinal:)`` pages by.
    public var id: Int
    public var order: PlacedOrder
    /// The latest fate recorded, nil before the first refresh.
    public var fate: Fate?
}

/// One recorded change of a pair's fate.
public struct FateChange: Sendable, Equatable {
    public var at: Date
    public var fate: Fate
    public var detail: String
    public var price: String?
    public var currency: String?
}

/// A pair's current fate as result files show it.
public struct FateRecord: Sendable, Equatable {
    public var report: FateReport
    /// When the fate last changed, and when a provider was last asked.
    public var changedAt: Date
    public var checkedAt: Date
}

extension Ledger {
    private static let finalFates = "(" + Fate.allCases.filter(\.isFinal).map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    /// Up to `limit` orders of `provider` in the run that were placed (accepted or already), in input order after
    /// `afterID`; without `includeFinal`, only those whose fate can still change (no fate yet, waiting, in
    /// auction, unknown): what `refresh` asks about.
    public func placedOrders(run: String, provider: ProviderID, afterID: Int, limit: Int, includeFinal: Bool = false) throws -> [PlacedOrderRow] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [] }
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: """
                    SELECT p.id, d.domain, p.reference, d.drop_time, p.updated_at, f.fate FROM pairs p
                    JOIN domains d ON d.run_id = p.run_id AND d.id = p.id
                    LEFT JOIN fates f ON f.run_id = p.run_id AND f.provider = p.provider AND f.id = p.id
                    WHERE p.run_id = ?1 AND p.provider = ?2 AND p.id > ?3 AND p.state IN (\(Self.sql(.accepted)), \(Self.sql(.already)))
                      AND (?4 OR f.fate IS NULL OR f.fate NOT IN \(Self.finalFates))
                    ORDER BY p.id LIMIT ?5
                    """),
                arguments: [runID, provider.rawValue, afterID, includeFinal, limit])
            var out: [PlacedOrderRow] = []
            while let row = try rows.next() {
                let drop: Double? = row[3]
                let fate: String? = row[5]
                out.append(PlacedOrderRow(
                    id: row[0],
                    order: PlacedOrder(
                        domain: DomainName(validatedASCII: row[1]), reference: row[2], dropTime: drop.map(Date.init(timeIntervalSince1970:)),
                        placedAt: Date(timeIntervalSince1970: row[4])),
                    fate: fate.flatMap(Fate.init(rawValue:))))
            }
            return out
        }
    }

    /// Records what providers said about these orders, in one transaction: a changed fate (fate, detail, price,
    /// currency, frozen or end time) replaces the current one, is appended to the history and makes the domain's
    /// result file due; an unchanged one only notes when it was checked. A reference the pair lacked is kept.
    /// Returns how many fates changed.
    @discardableResult
    public func recordFates(run: String, provider: ProviderID, _ updates: [(row: PlacedOrderRow, report: FateReport)], at now: Date = Date()) throws -> Int {
        guard !updates.isEmpty else { return 0 }
        return try pool.write { db in
            guard let runID = try Self.runID(db, run) else { return 0 }
            return try Self.writeFates(db, runID: runID, provider: provider, updates, at: now)
        }
    }

    /// ``recordFates(run:provider:_:at:)``'s writes, inside the caller's transaction (a cancel records its pairs'
    /// cancel state and their fate in one).
    private static func writeFates(_ db: Database, runID: Int64, provider: ProviderID, _ updates: [(row: PlacedOrderRow, report: FateReport)], at now: Date) throws -> Int {
        guard !updates.isEmpty else { return 0 }
        // A refresh of a list provider records a whole account's orders (100,000) in one call: the current fates are
        // read in one query, the unchanged ones noted in one statement, the changed ones written through
        // ``HotStatement``s, so a pair costs a few binds rather than statements built and looked up per row.
        // The range of the asked ids, read along the primary key; ids outside the updates are skipped.
        let asked = Set(updates.map(\.row.id))
        var current: [Int: (fate: String, detail: String, price: String?, currency: String?, frozen: String?, endsAt: Double?)] = [:]
        let (low, high) = (asked.min()!, asked.max()!)
        if high - low + 1 <= 8 * asked.count {
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT id, fate, detail, price, currency, frozen, ends_at FROM fates WHERE run_id = ? AND provider = ? AND id BETWEEN ? AND ?",
                arguments: [runID, provider.rawValue, low, high])
            while let o = try rows.next() {
                let id: Int = o[0]
                if asked.contains(id) { current[id] = (o[1], o[2], o[3], o[4], o[5], o[6]) }
            }
        } else {
            // A slice of a whole-account refresh comes in the provider's order (an auction list's): its ids are
            // scattered over the run, so each is read by its key rather than the whole range.
            let one = try db.cachedStatement(sql: "SELECT fate, detail, price, currency, frozen, ends_at FROM fates WHERE run_id = ? AND provider = ? AND id = ?")
            for id in asked {
                if let o = try Row.fetchOne(one, arguments: [runID, provider.rawValue, id]) { current[id] = (o[0], o[1], o[2], o[3], o[4], o[5]) }
            }
        }
        var unchanged: [Int] = []
        var changes: [(row: PlacedOrderRow, report: FateReport)] = []
        for (row, report) in updates {
            if let o = current[row.id], o.fate == report.fate.rawValue, o.detail == report.detail, o.price == report.price, o.currency == report.currency,
               o.frozen == report.frozen, o.endsAt == report.endsAt?.timeIntervalSince1970 {
                unchanged.append(row.id)
            } else {
                changes.append((row, report))
            }
        }
        if !unchanged.isEmpty {
            let checked = HotStatement(try db.cachedStatement(sql: "UPDATE fates SET checked_at = ?1 WHERE run_id = ?2 AND provider = ?3 AND id = ?4"))
            try checked.bind(now.timeIntervalSince1970, at: 1)
            try checked.bind(runID, at: 2)
            try checked.bind(provider.rawValue, at: 3)
            for id in unchanged {
                try checked.bind(id, at: 4)
                try checked.step()
            }
        }
        if !changes.isEmpty {
            let upsert = HotStatement(try db.cachedStatement(sql: """
                INSERT INTO fates(run_id, provider, id, fate, detail, price, currency, frozen, ends_at, changed_at, checked_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
                ON CONFLICT(run_id, provider, id) DO UPDATE SET fate = excluded.fate, detail = excluded.detail,
                    price = excluded.price, currency = excluded.currency, frozen = excluded.frozen, ends_at = excluded.ends_at,
                    changed_at = excluded.changed_at, checked_at = excluded.checked_at
                """))
            let history = HotStatement(try db.cachedStatement(sql: """
                INSERT INTO fate_history(run_id, provider, id, at, fate, detail, price, currency) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                """))
            let bump = HotStatement(try db.cachedStatement(sql: "UPDATE names SET version = version + 1 WHERE run_id = ?1 AND domain = ?2"))
            for statement in [upsert, history] {
                try statement.bind(runID, at: 1)
                try statement.bind(provider.rawValue, at: 2)
            }
            try upsert.bind(now.timeIntervalSince1970, at: 10)
            try history.bind(now.timeIntervalSince1970, at: 4)
            try bump.bind(runID, at: 1)
            for (row, report) in changes {
                try upsert.bind(row.id, at: 3)
                try upsert.bind(report.fate.rawValue, at: 4)
                try upsert.bind(report.detail, at: 5)
                try upsert.bind(report.price, at: 6)
                try upsert.bind(report.currency, at: 7)
                try upsert.bind(report.frozen, at: 8)
                if let ends = report.endsAt { try upsert.bind(ends.timeIntervalSince1970, at: 9) } else { try upsert.bind(nil as String?, at: 9) }
                try upsert.step()
                try history.bind(row.id, at: 3)
                try history.bind(report.fate.rawValue, at: 5)
                try history.bind(report.detail, at: 6)
                try history.bind(report.price, at: 7)
                try history.bind(report.currency, at: 8)
                try history.step()
                try bump.bind(row.order.domain.ascii, at: 2)
                try bump.step()
            }
        }
        let reference = try db.cachedStatement(sql: "UPDATE pairs SET reference = ? WHERE run_id = ? AND provider = ? AND id = ? AND (reference IS NULL OR reference = '')")
        for (row, report) in updates {
            if let ref = report.reference, !ref.isEmpty { try reference.execute(arguments: [ref, runID, provider.rawValue, row.id]) }
        }
        return changes.count
    }

    /// Placed pairs per provider and fate; a placed pair never refreshed counts as `waiting`.
    public func fateCounts(run: String) throws -> [ProviderID: [Fate: Int]] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [:] }
            // The placed pairs counted from the state index alone, then the fates recorded for them: an order with
            // no fate yet is waiting. One LEFT JOIN of every placed pair into `fates` did the same with a lookup per
            // pair, most of them for a fate that is not there (a submit's report.html: 5 ms of 10,000 domains).
            let placed = "(\(Self.sql(.accepted)), \(Self.sql(.already)))"
            var waiting: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT provider, COUNT(*) FROM pairs WHERE run_id = ? AND state IN \(placed) GROUP BY provider", arguments: [runID]) {
                waiting[row[0], default: 0] += row[1] as Int
            }
            var out: [ProviderID: [Fate: Int]] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT f.provider, f.fate, COUNT(*) FROM fates f
                    JOIN pairs p ON p.run_id = f.run_id AND p.provider = f.provider AND p.id = f.id
                    WHERE f.run_id = ? AND p.state IN \(placed)
                    GROUP BY f.provider, f.fate
                    """,
                arguments: [runID]) {
                let provider: String = row[0], n: Int = row[2]
                waiting[provider, default: 0] -= n
                guard let p = ProviderID(rawValue: provider), let f = Fate(rawValue: row[1]) else { continue }
                out[p, default: [:]][f, default: 0] += n
            }
            for (provider, n) in waiting where n > 0 {
                guard let p = ProviderID(rawValue: provider) else { continue }
                out[p, default: [:]][.waiting, default: 0] += n
            }
            return out
        }
    }

    /// The current fate of one pair, nil before its first refresh.
    public func fate(run: String, provider: ProviderID, domain: DomainName) throws -> FateRecord? {
        try pool.read { db in
            guard let runID = try Self.runID(db, run),
                  let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT f.fate, f.detail, f.price, f.currency, f.frozen, f.ends_at, f.changed_at, f.checked_at FROM fates f
                        JOIN names n ON n.run_id = f.run_id AND n.id = f.id WHERE f.run_id = ? AND f.provider = ? AND n.domain = ?
                        """,
                    arguments: [runID, provider.rawValue, domain.ascii]),
                  let fate = Fate(rawValue: row[0]) else { return nil }
            let ends: Double? = row[5]
            return FateRecord(
                report: FateReport(fate: fate, detail: row[1], price: row[2], currency: row[3], frozen: row[4], endsAt: ends.map(Date.init(timeIntervalSince1970:))),
                changedAt: Date(timeIntervalSince1970: row[6]), checkedAt: Date(timeIntervalSince1970: row[7]))
        }
    }

    /// Every change of one pair's fate, oldest first.
    public func fateHistory(run: String, provider: ProviderID, domain: DomainName) throws -> [FateChange] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT h.at, h.fate, h.detail, h.price, h.currency FROM fate_history h
                    JOIN names n ON n.run_id = h.run_id AND n.id = h.id
                    WHERE h.run_id = ? AND h.provider = ? AND n.domain = ? ORDER BY h.at, h.rowid
                    """,
                arguments: [runID, provider.rawValue, domain.ascii]
            ).compactMap { row in
                Fate(rawValue: row[1]).map { FateChange(at: Date(timeIntervalSince1970: row[0]), fate: $0, detail: row[2], price: row[3], currency: row[4]) }
            }
        }
    }
}


// MARK: - cancels (issue 11)

/// Where a pair's withdrawal stands. The raw values are what the ledger stores: never change one.
public enum CancelState: String, Sendable, Codable, CaseIterable {
    /// Asked for and not sent yet (or refused before anything was done, or proven still held): sent next.
    case wanted
    /// The cancel's intent is committed and the request may be on its way: after a crash it becomes `unclear`.
    case sending
    /// Sent without a clear answer: settled by the provider's lookup before anything is sent again.
    case unclear
    /// Withdrawn (the pair's fate is `cancelled`).
    case cancelled
    /// The provider will not withdraw it (its reason in the message): not sent again.
    case refused
}

/// A placed order with its fate and its cancel so far, as `cancel` needs it.
public struct CancelOrderRow: Sendable, Equatable {
    public var placed: PlacedOrderRow
    public var cancel: CancelState?
    public var attempts: Int
    public var unanswered: Int
    public var message: String
}

/// What `cancel` records for one pair.
public struct CancelUpdate: Sendable {
    public var row: PlacedOrderRow
    public var state: CancelState
    public var message: String
    /// The send this update closes may have landed without an answer.
    public var unanswered: Bool

    public init(row: PlacedOrderRow, state: CancelState, message: String, unanswered: Bool = false) {
        self.row = row
        self.state = state
        self.message = message
        self.unanswered = unanswered
    }
}

extension Ledger {
    /// Up to `limit` placed orders of `provider` in the run after `afterID`, in input order, final fates included,
    /// each with its cancel state: what `cancel` sorts into sent, not possible and nothing to do.
    public func cancelOrders(run: String, provider: ProviderID, afterID: Int, limit: Int) throws -> [CancelOrderRow] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [] }
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: """
                    SELECT p.id, d.domain, p.reference, d.drop_time, p.updated_at, f.fate, c.state, COALESCE(c.attempts, 0),
                        COALESCE(c.unanswered, 0), COALESCE(c.message, '') FROM pairs p
                    JOIN domains d ON d.run_id = p.run_id AND d.id = p.id
                    LEFT JOIN fates f ON f.run_id = p.run_id AND f.provider = p.provider AND f.id = p.id
                    LEFT JOIN cancels c ON c.run_id = p.run_id AND c.provider = p.provider AND c.id = p.id
                    WHERE p.run_id = ?1 AND p.provider = ?2 AND p.id > ?3 AND p.state IN (\(Self.sql(.accepted)), \(Self.sql(.already)))
                    ORDER BY p.id LIMIT ?4
                    """),
                arguments: [runID, provider.rawValue, afterID, limit])
            var out: [CancelOrderRow] = []
            while let row = try rows.next() {
                let drop: Double? = row[3]
                let fate: String? = row[5]
                let cancel: String? = row[6]
                out.append(CancelOrderRow(
                    placed: PlacedOrderRow(
                        id: row[0],
                        order: PlacedOrder(
                            domain: DomainName(validatedASCII: row[1]), reference: row[2], dropTime: drop.map(Date.init(timeIntervalSince1970:)),
                            placedAt: Date(timeIntervalSince1970: row[4])),
                        fate: fate.flatMap(Fate.init(rawValue:))),
                    cancel: cancel.flatMap(CancelState.init(rawValue:)), attempts: row[7], unanswered: row[8], message: row[9]))
            }
            return out
        }
    }

    /// After any earlier `cancel`: a pair caught mid-send (`sending`) becomes `unclear`, to be settled by lookup.
    @discardableResult
    public func recoverCancels(run: String, provider: ProviderID, now: Date = Date()) throws -> Int {
        try pool.write { db in
            guard let runID = try Self.runID(db, run) else { return 0 }
            try db.execute(
                sql: """
                    UPDATE cancels SET state = 'unclear', unanswered = unanswered + 1, updated_at = ?,
                        message = 'interrupted after the cancel was committed (intent ' || COALESCE(intent, '?') || '); checking with the provider before any resend'
                    WHERE run_id = ? AND provider = ? AND state = 'sending'
                    """,
                arguments: [now.timeIntervalSince1970, runID, provider.rawValue])
            return db.changesCount
        }
    }

    /// The write-ahead intent of a cancel request: committed before the request leaves the process; its pairs are
    /// `sending`. Returns the intent id.
    public func beginCancel(run: String, provider: ProviderID, _ rows: [PlacedOrderRow], now: Date = Date()) throws -> Int64 {
        try pool.write { db in
            let runID = try Self.makeRunID(db, run)
            try db.execute(
                sql: "INSERT INTO cancel_intents(run_id, provider, ids, created_at) VALUES (?, ?, ?, ?)",
                arguments: [runID, provider.rawValue, rows.map { String($0.id) }.joined(separator: ","), now.timeIntervalSince1970])
            let intent = db.lastInsertedRowID
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO cancels(run_id, provider, id, state, attempts, intent, updated_at) VALUES (?1, ?2, ?3, 'sending', 1, ?4, ?5)
                ON CONFLICT(run_id, provider, id) DO UPDATE SET state = 'sending', attempts = attempts + 1, intent = excluded.intent,
                    updated_at = excluded.updated_at
                """)
            for row in rows {
                try upsert.execute(arguments: [runID, provider.rawValue, row.id, intent, now.timeIntervalSince1970])
            }
            return intent
        }
    }

    /// Records cancel outcomes in one transaction, settling the intent they answer: a pair `cancelled` also gets
    /// the fate `cancelled` (its history kept, its result file due).
    public func recordCancels(run: String, provider: ProviderID, _ updates: [CancelUpdate], intent: Int64? = nil, outcome: String? = nil, now: Date = Date()) throws {
        guard !updates.isEmpty || intent != nil else { return }
        try pool.write { db in
            let runID = try Self.makeRunID(db, run)
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO cancels(run_id, provider, id, state, message, unanswered, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                ON CONFLICT(run_id, provider, id) DO UPDATE SET state = excluded.state, message = excluded.message,
                    unanswered = unanswered + excluded.unanswered, updated_at = excluded.updated_at
                """)
            var fates: [(row: PlacedOrderRow, report: FateReport)] = []
            for u in updates {
                try upsert.execute(arguments: [runID, provider.rawValue, u.row.id, u.state.rawValue, u.message, u.unanswered ? 1 : 0, now.timeIntervalSince1970])
                if u.state == .cancelled { fates.append((u.row, FateReport(fate: .cancelled, detail: u.message))) }
            }
            _ = try Self.writeFates(db, runID: runID, provider: provider, fates, at: now)
            if let intent {
                try db.execute(sql: "UPDATE cancel_intents SET settled_at = ?, outcome = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, outcome, intent])
            }
        }
    }

    /// Pairs per provider and cancel state (pairs never asked to cancel are not counted).
    public func cancelCounts(run: String) throws -> [ProviderID: [CancelState: Int]] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [:] }
            return try Self.countsByProvider(db, table: "cancels", runID: runID, CancelState.self)
        }
    }

    /// Cancel requests whose intent was never settled (a crash between commit and answer), for tests and checks.
    public func unsettledCancelIntents(run: String) throws -> Int {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cancel_intents WHERE run_id = ? AND settled_at IS NULL", arguments: [runID]) ?? 0
        }
    }

    /// When a provider was last asked about any of the run's orders (the latest refresh), nil if never.
    public func lastFateCheck(run: String) throws -> Date? {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return nil }
            return try Double.fetchOne(db, sql: "SELECT MAX(checked_at) FROM fates WHERE run_id = ?", arguments: [runID]).map(Date.init(timeIntervalSince1970:))
        }
    }

    /// The runs holding placed orders whose fate can still change (no fate yet, waiting, in auction, unknown):
    /// what `refresh` without a run asks about.
    public func runsWithOpenOrders() throws -> [String] {
        try pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT r.name FROM runs r WHERE r.invocations > 0 AND EXISTS (
                        SELECT 1 FROM pairs p LEFT JOIN fates f ON f.run_id = p.run_id AND f.provider = p.provider AND f.id = p.id
                        WHERE p.run_id = r.id AND p.state IN (\(Self.sql(.accepted)), \(Self.sql(.already)))
                          AND (f.fate IS NULL OR f.fate NOT IN \(Self.finalFates)))
                    ORDER BY r.name
                    """)
        }
    }
}

// MARK: - reclaim (issue 11 part 4)

/// A domain of a run caught at one provider or more: what `reclaim` asks DNSPod to hand back.
public struct WonDomain: Sendable, Equatable {
    public var domain: DomainName
    /// The input text as the run read it, and the run's attributes of it (the email column feeds DNSPod).
    public var input: String
    public var attributes: DomainAttributes
    /// The providers whose fate for it is `won`, by name, sorted.
    public var wonAt: [ProviderID]
}

extension Ledger {
    /// The run's domains whose fate is `won` at any backorder provider, in input order, with the email and drop
    /// time the input gave them (`reclaim` hands them to DNSPod as `submit` would). DNSPod places no backorder,
    /// so whatever fate its own pairs carry, it catches nothing.
    public func wonDomains(run: String) throws -> [WonDomain] {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT d.domain, d.input, d.drop_time, d.email, group_concat(f.provider, ',') AS providers FROM fates f
                    JOIN domains d ON d.run_id = f.run_id AND d.id = f.id
                    WHERE f.run_id = ? AND f.fate = ? AND f.provider != ? GROUP BY d.id ORDER BY d.id
                    """,
                arguments: [runID, Fate.won.rawValue, ProviderID.dnspod.rawValue]
            ).map { row in
                let drop: Double? = row[2]
                let providers: String = row[4]
                return WonDomain(
                    domain: DomainName(validatedASCII: row[0]), input: row[1],
                    attributes: DomainAttributes(dropTime: drop.map(Date.init(timeIntervalSince1970:)), email: row[3]),
                    wonAt: providers.split(separator: ",").compactMap { ProviderID(rawValue: String($0)) }.sorted())
            }
        }
    }
}

// MARK: the run report (report.html, issue 12)

/// One create as the ledger's write-ahead intent knows it: committed just before the request left the process
/// (`createdAt`) and settled once its answer was recorded (`settledAt`), so their difference is the request's
/// time as the lane saw it (its ledger commit included, a few milliseconds).
public struct ReportIntent: Sendable {
    public var provider: String
    public var domains: Int
    public var createdAt: Double
    public var settledAt: Double?
    public var outcome: IntentOutcome?
    /// Seconds the lane held this request's domains before resending them, when it was refused.
    public var wait: Double?
}

/// A pair that did not end placed, with the provider's last word on it.
public struct ReportProblem: Sendable {
    public var domain: String
    public var provider: String
    public var state: PairState
    public var code: String?
    public var message: String
}

extension Ledger {
    /// Records how long a refused create's domains wait before they are sent again (the report's waits per provider).
    /// Only refusals call it, so it costs nothing on the path of answered requests.
    public func noteWait(intent: Int64, seconds: Double) throws {
        try pool.write { db in try db.execute(sql: "UPDATE intents SET wait = ? WHERE id = ?", arguments: [seconds, intent]) }
    }

    /// Every create intent of the run in the order they were made: the report's throughput, latency and failure
    /// charts. A scan of `intents` (one row per request, not per domain), read once per report.
    public func reportIntents(run: String) throws -> [ReportIntent] {
        try pool.read { db in
            var out: [ReportIntent] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT provider, length(domains) - length(replace(domains, ',', '')) + 1, created_at, settled_at, outcome, wait
                    FROM intents WHERE run = ? ORDER BY id
                    """,
                arguments: [run])
            while let row = try rows.next() {
                let outcome: String? = row[4]
                out.append(ReportIntent(
                    provider: row[0], domains: row[1], createdAt: row[2], settledAt: row[3], outcome: outcome.flatMap(IntentOutcome.init(rawValue:)), wait: row[5]))
            }
            return out
        }
    }

    /// The pairs that did not end accepted/already, in input order, at most `limit` (the report lists only these,
    /// so a 100,000-domain run that went well costs nothing here): those with a row (rejected, failed, unknown,
    /// skipped, sending) and then those never sent (pending, no row), at most `pendingLimit` of these (a dry run
    /// or a halted lane leaves every domain so, all saying the same). Also returns how many there are in all.
    public func reportProblems(run: String, limit: Int, pendingLimit: Int) throws -> (rows: [ReportProblem], total: Int) {
        try pool.read { db in
            guard let runID = try Self.runID(db, run) else { return ([], 0) }
            var out: [ReportProblem] = []
            let placed = "(\(Self.sql(.accepted)), \(Self.sql(.already)))"
            let withRow = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pairs WHERE run_id = ? AND state NOT IN \(placed)", arguments: [runID]) ?? 0
            let rowless = try Self.rowless(db, runID: runID).reduce(0) { $0 + $1.pending }
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT d.domain, p.provider, p.state, p.code, p.message FROM pairs p
                    JOIN domains d ON d.run_id = p.run_id AND d.id = p.id
                    WHERE p.run_id = ? AND p.state NOT IN \(placed) ORDER BY p.id, p.provider LIMIT ?
                    """,
                arguments: [runID, limit])
            while let row = try rows.next() {
                let state: String = row[2]
                out.append(ReportProblem(domain: row[0], provider: row[1], state: PairState(rawValue: state) ?? .unknown, code: row[3], message: row[4]))
            }
            if out.count < limit, rowless > 0 {
                let pending = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT d.domain, rp.provider FROM run_providers rp
                        JOIN domains d ON d.run_id = rp.run_id AND d.id <= rp.through
                        WHERE rp.run_id = ? AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.run_id = rp.run_id AND p.provider = rp.provider AND p.id = d.id)
                        ORDER BY d.id, rp.provider LIMIT ?
                        """,
                    arguments: [runID, min(pendingLimit, limit - out.count)])
                while let row = try pending.next() {
                    out.append(ReportProblem(domain: row[0], provider: row[1], state: .pending, code: nil, message: "never sent"))
                }
            }
            return (out, withRow + rowless)
        }
    }
}
