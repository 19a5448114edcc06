import Foundation

extension ResultWriter {
    /// `filtered.tsv`: file, line, domain (its ASCII form), reason for every input line a filter left out of the
    /// run, written whole through a temporary file like `invalid.tsv`. Only when there is something to list, or
    /// an earlier invocation wrote one (which is then brought up to date, maybe to its header alone): a run
    /// without filters gets no such file. Throws a ``ResultFileFailure`` when it cannot be written, any other
    /// error when the ledger cannot be read.
    @discardableResult
    public func writeFiltered() throws -> Int {
        let rows = try ledger.filteredRows(run: run)
        let name = "filtered.tsv"
        let path = (directory as NSString).appendingPathComponent(name)
        if rows.isEmpty, !FileManager.default.fileExists(atPath: path) { return 0 }
        var out = "file\tline\tdomain\treason\n"
        for row in rows {
            out += [row.file, String(row.line), row.domain, row.reason].map(Self.tsvField).joined(separator: "\t") + "\n"
        }
        let target = ResultDirectory(path: directory)
        defer { target.close() }
        try target.write(Array(out.utf8), to: name)
        return rows.count
    }
}
