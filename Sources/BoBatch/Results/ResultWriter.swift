import Crypto
import Foundation
import Glibc

/// Projects the ledger onto the results directory: one JSON file per domain, `invalid.tsv`, `summary.json`.
/// Every file is written to a temporary name and renamed, so a reader never sees half a file; a domain's file
/// is rewritten only when one of its pairs changed since it was last written.
///
/// One file that cannot be written (a full disk, a directory squatting its name, permissions) is reported and
/// left for the next run; it never stops the other files: the ledger keeps the outcome either way.
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
            try ledger.markAllResultsUnwritten(run: run)
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

    // MARK: file names

    /// The longest result file name bo-batch makes, in bytes. NAME_MAX is 255 bytes on ext4, XFS, Btrfs, tmpfs
    /// and APFS, and a domain name may be 253 octets, so `NAME.json` can be 258. 200 leaves room for the names
    /// other tools derive from ours (rsync's `.NAME.XXXXXX`, editor swap and backup files, `.orig`, `.~1~`)
    /// while every name up to 195 octets, which is nearly every real one, keeps its plain `NAME.json`.
    public static let maxFileNameBytes = 200
    /// Hex digits of the name's SHA-256 in a shortened file name: 64 bits, so even among 65,536 names sharing
    /// the kept prefix the chance that any two get the same file is about 2^-33.
    static let hashDigits = 16

    /// The file a domain's result goes to: `NAME.json`, or, when that would be longer than
    /// ``maxFileNameBytes``, the name's first 178 octets, `_`, 16 hex digits of the SHA-256 of the whole name,
    /// and `.json` (200 bytes). No domain name contains `_`, so a shortened name never equals a plain one; the
    /// file's `domain` field holds the whole name.
    public static func fileName(for domain: String) -> String {
        let plain = domain + ".json"
        if plain.utf8.count <= maxFileNameBytes { return plain }
        let hex = SHA256.hash(data: Data(domain.utf8)).prefix(hashDigits / 2).map { String(format: "%02x", $0) }.joined()
        let keep = maxFileNameBytes - "_".utf8.count - hashDigits - ".json".utf8.count
        // Domain names are ASCII, so cutting at a byte count cuts between characters.
        return String(decoding: domain.utf8.prefix(keep), as: UTF8.self) + "_" + hex + ".json"
    }

    // MARK: writing

    /// Writes the files of every domain that changed since its file was last written, at most `maxFiles`
    /// attempts. A file that cannot be written is counted in the report and stays due, so the next flush (or
    /// the next run) tries it again; the others are written all the same.
    @discardableResult
    public func flush(maxFiles: Int = .max) throws -> FlushReport {
        flushLock.lock()
        defer { flushLock.unlock() }
        var report = FlushReport()
        var attempted = 0
        // Walks the due domains in name order, so a domain whose file failed is not fetched again in this flush.
        var after = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        while attempted < maxFiles {
            let limit = min(500, maxFiles - attempted)
            let batch = try ledger.dueResults(run: run, afterDomain: after, limit: limit)
            guard let last = batch.last else { break }
            after = last.domain
            attempted += batch.count
            var done: [DomainResultRow] = []
            for entry in batch {
                let name = Self.fileName(for: entry.domain)
                do {
                    try write(try encoder.encode(file(of: entry)), to: name)
                    done.append(entry)
                    if name != entry.domain + ".json" { removeUnshortenedFile(of: entry.domain) }
                } catch {
                    var failure = error as? ResultFileFailure ?? ResultFileFailure(file: path(of: name), error: "\(error)")
                    failure.domain = entry.domain
                    report.record(failure)
                }
            }
            try ledger.markWritten(run: run, done)
            report.written += done.count
        }
        return report
    }

    private func file(of result: DomainResultRow) -> DomainFile {
        var outcomes: [String: Outcome] = [:]
        for pair in result.pairs {
            outcomes[pair.provider] = Outcome(
                state: pair.state.reported, message: pair.message, attempts: pair.attempts, updated: Self.timestamp(pair.updated),
                code: pair.code, reference: pair.reference)
        }
        return DomainFile(
            domain: result.domain, input: result.input, source: result.source, run: run, dropTime: result.dropTime.map(Self.timestamp),
            email: result.email, outcomes: outcomes)
    }

    /// Before names were shortened, a name of 196 to 250 octets was written as `NAME.json`; that file is the
    /// same domain's, now stale, and would be found before the current one.
    private func removeUnshortenedFile(of domain: String) {
        let old = domain + ".json"
        guard old.utf8.count <= Int(NAME_MAX) else { return }
        unlink(path(of: old))
    }

    /// `invalid.tsv`: file, line, text, reason for every input line that is not a domain. Throws a
    /// ``ResultFileFailure`` when the file cannot be written, any other error when the ledger cannot be read.
    public func writeInvalid() throws -> Int {
        let rows = try ledger.invalidRows(run: run)
        var out = "file\tline\ttext\treason\n"
        for row in rows {
            let fields = [row.file, String(row.line), row.text, row.reason]
            out += fields.map(Self.tsvField).joined(separator: "\t") + "\n"
        }
        try write(Data(out.utf8), to: "invalid.tsv")
        return rows.count
    }

    /// Throws a ``ResultFileFailure`` when `summary.json` cannot be written.
    public func writeSummary(_ summary: RunSummary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try write(try encoder.encode(summary), to: "summary.json")
    }

    private func path(of name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }

    /// Writes `data` to a temporary file, then renames it over NAME: a reader (or a crash) sees the old file or
    /// the new one, never half of one. The temporary name, `.bo-batch.PID.RANDOM.tmp`, is short whatever NAME
    /// is (at most 35 bytes), and lives in the same directory, so the rename stays atomic.
    private func write(_ data: Data, to name: String) throws(ResultFileFailure) {
        let target = path(of: name)
        var temp = ""
        var fd: Int32 = -1
        // A clash of pid and 32 random bits (a leftover of a recycled pid) is retried, not reported.
        for _ in 0..<3 {
            temp = self.path(of: ".bo-batch.\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
            fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw ResultFileFailure(file: target, error: "cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))") }
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
        // ENOSPC and EDQUOT may only show at close on network file systems.
        let closeError = close(fd) != 0 ? String(cString: strerror(errno)) : nil
        guard writeError == nil, closeError == nil, rename(temp, target) == 0 else {
            let reason = writeError ?? closeError ?? String(cString: strerror(errno))
            unlink(temp)
            throw ResultFileFailure(file: target, error: reason)
        }
    }

    /// A run killed mid-write leaves its `.bo-batch.PID.N.tmp` (older versions: `.NAME.PID.N.tmp`) behind; those of
    /// processes that are gone are removed, so the results directory holds only whole files.
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

/// A result file that could not be written: which, for which domain (none for `invalid.tsv` and
/// `summary.json`), and the system's reason.
public struct ResultFileFailure: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    /// The path, as the results directory was given.
    public var file: String
    public var domain: String?
    public var error: String

    public init(file: String, domain: String? = nil, error: String) {
        self.file = file
        self.domain = domain
        self.error = error
    }

    public var description: String { "cannot write \(file)\(domain.map { " (the result of \($0))" } ?? ""): \(error)" }
}

/// What one ``ResultWriter/flush(maxFiles:)`` did (and, at the end of a run, what every write of the run did).
public struct FlushReport: Sendable, Equatable {
    /// How many files are kept in ``failures``; ``failed`` counts them all.
    public static let listedFailures = 100

    public var written = 0
    public var failed = 0
    /// The first ``listedFailures`` failures, in the order met (domain files in name order).
    public var failures: [ResultFileFailure] = []

    mutating func record(_ failure: ResultFileFailure) {
        failed += 1
        if failures.count < Self.listedFailures { failures.append(failure) }
    }
}
