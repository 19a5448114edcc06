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
        out.reserveCapacity(rows.count * 48)
        var lastFile: String?, escapedFile = ""
        for row in rows {
            // A filter may leave out most of a million lines: `tsvField`'s four Foundation replacements per field
            // cost 25 µs a row. Domains and reasons never hold what it escapes; the file is escaped once per file.
            if row.file != lastFile {
                lastFile = row.file
                escapedFile = Self.tsvField(row.file)
            }
            out += escapedFile
            out += "\t"
            out += String(row.line)
            out += "\t"
            out += row.domain
            out += "\t"
            out += row.reason
            out += "\n"
        }
        let target = ResultDirectory(path: directory)
        defer { target.close() }
        try target.write(Array(out.utf8), to: name)
        return rows.count
    }
}
