import Crypto
import CRenameExchange
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
    /// What the run's one lane just recorded (see ``ResultFeed``), nil when there is no such lane.
    let feed: ResultFeed?

    public init(directory: String, ledger: Ledger, run: String) throws {
        try self.init(directory: directory, ledger: ledger, run: run, feed: nil)
    }

    init(directory: String, ledger: Ledger, run: String, feed: ResultFeed?) throws {
        self.directory = directory
        self.ledger = ledger
        self.run = run
        self.feed = feed
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
    ///
    /// `movedOnly` (the periodic flush during a run) leaves out the domains that have not moved since they were
    /// read, whose file would only say every pair is still waiting: the final flush writes those, once, with
    /// what they came to. Without it a 10,000-domain run wrote most files twice, the first time to say nothing.
    @discardableResult
    public func flush(maxFiles: Int = .max, movedOnly: Bool = false) throws -> FlushReport {
        flushLock.lock()
        defer { flushLock.unlock() }
        var report = FlushReport()
        var attempted = 0
        // Walks the due domains in name order, so a domain whose file failed is not fetched again in this flush.
        var after = ""
        var encoder = ResultFileEncoder()
        let target = ResultDirectory(path: directory)
        defer { target.close() }
        // The lane's own rows stand in for the ledger's only in a run of that one provider (see ResultFeed).
        var known: ((Int64) -> PairResultRow?)?
        if let feed, feed.count > 0, try ledger.runProviderNames(run: run) == [feed.provider] {
            known = { feed.pair(id: $0) }
        }
        // Written files not yet marked: see `markEvery`.
        var unmarked: [DomainResultRow] = []
        let markEvery = movedOnly ? 1 : Self.marksDeferred
        func mark() throws {
            guard !unmarked.isEmpty else { return }
            try ledger.markWritten(run: run, unmarked)
            if known != nil { feed?.remove(unmarked.lazy.map(\.id)) }
            unmarked.removeAll(keepingCapacity: true)
        }
        while attempted < maxFiles {
            let limit = min(Self.pageSize, maxFiles - attempted)
            let batch = try ledger.dueResults(run: run, afterDomain: after, limit: limit, movedOnly: movedOnly, known: known)
            guard let last = batch.last else { break }
            after = last.domain
            attempted += batch.count
            // The rows whose file failed, by index: nearly always none.
            var failed: [Int] = []
            for (index, entry) in batch.enumerated() {
                let name = Self.fileName(for: entry.domain)
                encoder.encode(entry, run: run)
                do {
                    try target.write(encoder.bytes, to: name, replacing: entry.written > 0)
                    if name.utf8.count != entry.domain.utf8.count + 5 { removeUnshortenedFile(of: entry.domain) }
                } catch var failure {
                    failure.domain = entry.domain
                    report.record(failure)
                    failed.append(index)
                }
            }
            let skip = Set(failed)
            for (index, var entry) in batch.enumerated() where !skip.contains(index) {
                // The mark needs the row's version and due count only, not its pairs.
                entry.pairs = []
                unmarked.append(entry)
            }
            report.written += batch.count - failed.count
            if unmarked.count >= markEvery * Self.pageSize { try mark() }
            if batch.count < limit { break }
        }
        try mark()
        return report
    }

    /// Pages of files the final flush writes before it marks them written, in one transaction. Every mark is a
    /// write, which makes the reading connection drop its page cache and read the pages of the next page of due
    /// domains again; ten pages of marks at once keep that cache warm over ten pages. The files are written before
    /// their mark as before: a crash in between leaves whole files the next run writes once more. The periodic
    /// flush marks every page, so that the lanes' commits never wait long behind a mark.
    static let marksDeferred = 10

    /// Domains read per read transaction (and, in the periodic flush, marked per write): big enough that the
    /// transactions cost little per file, small enough that a page's rows stay a few hundred kilobytes.
    static let pageSize = 1000

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

    /// Writes `report.html` (``RunReport``) beside `summary.json`, whole or not at all.
    public func writeReport(_ html: String) throws(ResultFileFailure) {
        try write(Data(html.utf8), to: "report.html")
    }

    private func path(of name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }

    /// Writes `data` to a temporary file, then renames it over NAME (see ``ResultDirectory/write(_:to:)``).
    private func write(_ data: Data, to name: String) throws(ResultFileFailure) {
        let target = ResultDirectory(path: directory)
        defer { target.close() }
        try target.write(Array(data), to: name)
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

}

/// The results directory, opened once per flush: each file is then `openat` (a fresh temporary name,
/// `O_CREAT | O_EXCL`, mode 0644 less the umask), one `write`, `close`, `renameat` over its name: four system
/// calls, each walking one name instead of the whole path. A file whose name is new is made nameless instead
/// (`O_TMPFILE`), written, and given its name by `linkat` once whole (see ``writeUnnamed(_:to:)``). No fsync: the
/// ledger is the source of truth, and a file lost to a power cut is written again from it by the next run.
final class ResultDirectory {
    let path: String
    /// -1 when the directory cannot be opened (deleted during a run): the whole paths are then used, so each
    /// file reports the system's reason as before.
    private let fd: Int32
    private let temporaryPrefix: String
    /// Makes each temporary name of this flush new without asking the kernel for randomness per file.
    private var counter = UInt32.random(in: 0...UInt32.max)
    /// False once the file system or the kernel refused a nameless file (no `O_TMPFILE`, or `linkat` of one
    /// allowed only to root), or a name was found taken: the rest of the flush takes the temporary name at once.
    private var unnamedWorks = true

    init(path: String) {
        self.path = path
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        temporaryPrefix = ".bo-batch.\(getpid())."
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
    }

    private func full(_ name: String) -> String {
        (path as NSString).appendingPathComponent(name)
    }

    /// Writes `bytes` to a temporary file, then renames it over NAME: a reader (or a crash) sees the old file or
    /// the new one, never half of one. The temporary name, `.bo-batch.PID.N.tmp`, is short whatever NAME is (at
    /// most 35 bytes), and lives in the same directory, so the rename stays atomic.
    /// `replacing`: the file was probably written before (see the exchange below).
    func write(_ bytes: [UInt8], to name: String, replacing: Bool = false) throws(ResultFileFailure) {
        if !replacing, unnamedWorks, fd >= 0, try writeUnnamed(bytes, to: name) { return }
        let base = fd >= 0 ? fd : AT_FDCWD
        let target = fd >= 0 ? name : full(name)
        var temp = ""
        var file: Int32 = -1
        // A clash (a leftover of a recycled pid) is retried with the next name, not reported.
        for _ in 0..<3 {
            counter &+= 1
            temp = temporaryPrefix + String(counter) + ".tmp"
            if fd < 0 { temp = full(temp) }
            file = openat(base, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if file >= 0 || errno != EEXIST { break }
        }
        guard file >= 0 else {
            throw ResultFileFailure(file: full(name), error: "cannot create a temporary file in \(path): \(String(cString: strerror(errno)))")
        }
        let writeError = Self.writeAll(bytes, to: file)
        // ENOSPC and EDQUOT may only show at close on network file systems.
        let closeError = Glibc.close(file) != 0 ? String(cString: strerror(errno)) : nil
        guard writeError == nil, closeError == nil else {
            unlinkat(base, temp, 0)
            throw ResultFileFailure(file: full(name), error: writeError ?? closeError!)
        }
        // A file written before (a refresh rewrites every changed one) is swapped with the new one, atomically,
        // and the old one, now under the temporary name, removed: ext4 forces the data of a file renamed OVER
        // another to disk at once (auto_da_alloc), which made a 100,000-file refresh mostly waiting on writeback.
        // A new name, or a file system without the exchange, takes the plain rename.
        if replacing, bo_batch_exchange_at(base, temp, target) == 0 {
            unlinkat(base, temp, 0)
            return
        }
        guard renameat(base, temp, base, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlinkat(base, temp, 0)
            throw ResultFileFailure(file: full(name), error: reason)
        }
    }

    /// A file whose name is free, written nameless and then named: `openat(O_TMPFILE)`, `write`, `linkat`, `close`.
    /// The name appears only once the file is whole, and a crash before that leaves nothing behind; the kernel
    /// skips the temporary name's entry and the rename (on tmpfs 6 µs of CPU a file instead of 7.7; on ext4 about
    /// half, as a rename of a fresh file makes ext4 order its data). False (nothing written, nothing left) when
    /// the name is taken (a file left from an earlier ledger) or the system cannot: the temporary name then does it.
    private func writeUnnamed(_ bytes: [UInt8], to name: String) throws(ResultFileFailure) -> Bool {
        let file = bo_batch_open_unnamed(fd)
        guard file >= 0 else {
            if errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL { unnamedWorks = false }
            return false
        }
        if let writeError = Self.writeAll(bytes, to: file) {
            Glibc.close(file)
            throw ResultFileFailure(file: full(name), error: writeError)
        }
        guard bo_batch_link_unnamed(file, fd, name) == 0 else {
            // EEXIST: the name is taken, which the rename replaces; anything else: linkat of a nameless file is
            // not allowed here (ENOENT before Linux 6.10 for all but root) or not supported. Either way the rest
            // of the flush takes the temporary name: a directory holding files this ledger does not know of (an
            // earlier ledger's) would otherwise pay both ways for each of them.
            unnamedWorks = false
            Glibc.close(file)
            return false
        }
        // ENOSPC and EDQUOT may only show at close on network file systems (which have no O_TMPFILE so far):
        // the name, new, goes again rather than stand for a file that may be short.
        guard Glibc.close(file) == 0 else {
            let reason = String(cString: strerror(errno))
            unlinkat(fd, name, 0)
            throw ResultFileFailure(file: full(name), error: reason)
        }
        return true
    }

    /// Writes all of `bytes` to `file`; the system's reason when it cannot.
    private static func writeAll(_ bytes: [UInt8], to file: Int32) -> String? {
        bytes.withUnsafeBytes { buffer -> String? in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(file, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                offset += n
            }
            return nil
        }
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
