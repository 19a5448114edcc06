import Foundation
import Glibc
import GRDB

/// Projects the ledger onto the results directory: one JSON file per domain, `invalid.tsv`, `summary.json`.
/// Every file is written to a temporary name and renamed, so a reader never sees half a file; a domain's file
/// is rewritten only when one of its pairs changed since it was last written.
public struct ResultWriter: Sendable {
    public let directory: String
    let ledger: Ledger
    let run: String
    /// One flush at a time: the periodic flush and the final one must not interleave.
    private let flushLock = NSLock()

    public init(directory: String, ledger: Ledger, run: String) throws {
        self.directory = directory
        self.ledger = ledger
        self.run = run
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ResultWriterError(message: "\(directory) exists and is not a directory; choose another --out")
        }
        Self.removeStaleTemporaryFiles(in: directory)
        if !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            // A fresh (or deleted) results directory must get every file again.
            try ledger.pool.write { db in try db.execute(sql: "UPDATE domains SET written = 0 WHERE run = ?", arguments: [run]) }
        }
    }

    struct Outcome: Codable {
        var state: String
        var message: String
        var attempts: Int
        var updated: String
        var code: String?
        var reference: String?
    }

    struct DomainFile: Codable {
        var domain: String
        var input: String
        var source: String
        var run: String
        var dropTime: String?
        var email: String?
        var outcomes: [String: Outcome]

        enum CodingKeys: String, CodingKey {
            case domain, input, source, run, dropTime = "drop_time", email, outcomes
        }
    }

    /// Writes the files of every domain that changed since its file was last written. Returns how many.
    @discardableResult
    public func flush(maxFiles: Int = .max) throws -> Int {
        flushLock.lock()
        defer { flushLock.unlock() }
        var written = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        while written < maxFiles {
            let batch: [(file: DomainFile, version: Int)] = try ledger.pool.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT domain, input, source, drop_time, email, version FROM domains WHERE run = ? AND written < version LIMIT 500",
                    arguments: [run])
                guard !rows.isEmpty else { return [] }
                var files: [String: DomainFile] = [:]
                var versions: [String: Int] = [:]
                for row in rows {
                    let domain: String = row["domain"]
                    let drop: Double? = row["drop_time"]
                    files[domain] = DomainFile(
                        domain: domain, input: row["input"], source: row["source"], run: run,
                        dropTime: drop.map { Self.timestamp(Date(timeIntervalSince1970: $0)) }, email: row["email"], outcomes: [:])
                    versions[domain] = row["version"]
                }
                let pairs = try Row.fetchAll(
                    db,
                    sql: "SELECT domain, provider, state, attempts, code, message, reference, updated_at FROM pairs WHERE run = ? AND domain IN (SELECT value FROM json_each(?))",
                    arguments: [run, Ledger.jsonArray(Array(files.keys))])
                for p in pairs {
                    let domain: String = p["domain"]
                    let state = PairState(rawValue: p["state"]) ?? .unknown
                    files[domain]?.outcomes[p["provider"]] = Outcome(
                        state: state.reported, message: p["message"], attempts: p["attempts"],
                        updated: Self.timestamp(Date(timeIntervalSince1970: p["updated_at"])), code: p["code"], reference: p["reference"])
                }
                return files.map { ($0.value, versions[$0.key]!) }
            }
            if batch.isEmpty { break }
            for entry in batch {
                try write(try encoder.encode(entry.file), to: "\(entry.file.domain).json")
            }
            try ledger.pool.write { db in
                let statement = try db.cachedStatement(sql: "UPDATE domains SET written = ? WHERE run = ? AND domain = ?")
                for entry in batch { try statement.execute(arguments: [entry.version, run, entry.file.domain]) }
            }
            written += batch.count
        }
        return written
    }

    /// `invalid.tsv`: file, line, text, reason for every input line that is not a domain.
    public func writeInvalid() throws -> Int {
        let rows = try ledger.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT file, line, text, reason FROM invalid WHERE run = ? ORDER BY file, line", arguments: [run])
        }
        var out = "file\tline\ttext\treason\n"
        for row in rows {
            let fields: [String] = [row["file"], String(row["line"] as Int), row["text"], row["reason"]]
            out += fields.map(Self.tsvField).joined(separator: "\t") + "\n"
        }
        try write(Data(out.utf8), to: "invalid.tsv")
        return rows.count
    }

    public func writeSummary(_ summary: RunSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try write(try encoder.encode(summary), to: "summary.json")
    }

    /// Writes `data` to `.NAME.PID.RANDOM.tmp`, then renames it over NAME: a reader (or a crash) sees the old file
    /// or the new one, never half of one.
    private func write(_ data: Data, to name: String) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        let temp = (directory as NSString).appendingPathComponent(".\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ResultWriterError(message: "cannot write \(temp): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return -1
                }
                offset += n
            }
            return offset
        }
        let writeError = written < 0 ? String(cString: strerror(errno)) : nil
        close(fd)
        guard writeError == nil, rename(temp, path) == 0 else {
            let reason = writeError ?? String(cString: strerror(errno))
            unlink(temp)
            throw ResultWriterError(message: "cannot write \(path): \(reason)")
        }
    }

    /// A run killed mid-write leaves its `.NAME.PID.N.tmp` behind; those of processes that are gone are removed,
    /// so the results directory holds only whole files.
    static func removeStaleTemporaryFiles(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count >= 4, let pid = pid_t(parts[parts.count - 3]), pid > 0, pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            unlink((directory as NSString).appendingPathComponent(name))
        }
    }

    static func tsvField(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
    }
}

public struct ResultWriterError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
