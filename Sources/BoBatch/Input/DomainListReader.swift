import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads one list of domains (a plain list or a CSV export) record by record, in constant memory.
///
/// The format is decided once per file, from its first data line: a `,` `;` or tab outside quotes makes it
/// CSV, otherwise it is one domain per line (optionally followed by spaces and a drop date). A leading title or
/// timestamp line, as registry dumps have, is skipped and kept in ``skippedTitle`` for a note. Lines that cannot be read become `.problem` items and reading goes
/// on; only a file that cannot be used at all throws. Not thread-safe: one consumer per reader.
public final class DomainListReader {
    private enum Format {
        case plain
        case csv(CSVDialect, Columns)
    }

    /// Where the fields of a CSV record are, 0-based.
    private struct Columns {
        var domain: Int
        var dropDate: Int?
        var email: Int?
        var tld: Int?
        /// Without a header, the `domain,date,...` shape: a date in column 2 is the drop date.
        var dateInSecondColumn: Bool
    }

    /// How many problem lines may come before the first data line before we call the file unusable.
    private static let maxProblemsBeforeData = 64
    private static let sampleBytes = 4096

    private let inputPath: String
    private let displayName: String
    private let maxLineBytes: Int
    private var scanner: RecordScanner
    private var format: Format = .plain
    /// Problems met while looking for the first data line, handed out before anything else.
    private var pending: [InputItem] = []
    /// The leading title or timestamp line that was skipped (registry dumps start with one), for a note.
    public private(set) var skippedTitle: SkippedLine?

    /// Opens `path` ("-" for standard input), a text file or a gzip-compressed one, and reads far enough to know
    /// its format and columns. A zip archive holds several lists: ``ListInputs`` opens each of its members.
    public convenience init(path: String, options: InputOptions) throws(InputFileError) {
        let file = PeekableSource(try FileSource(path: path))
        let name = path == "-" ? "stdin" : path
        switch InputPacking(magic: try file.peek(4)) {
        case .gzip:
            try self.init(source: GzipSource(file, path: path, displayName: name), path: path, displayName: name, options: options)
        case .zip:
            throw InputFileError(path: path, message: "\(name) is a zip archive: each member is a list of its own, read through ListInputs")
        case .none:
            try self.init(source: file, path: path, displayName: name, options: options)
        }
    }

    /// Reads `source` (a file, or a decompressor over one), named `displayName` in what it reports.
    init(source: any ByteSource, path: String, displayName: String, options: InputOptions) throws(InputFileError) {
        inputPath = path
        self.displayName = displayName
        maxLineBytes = max(1, options.maxLineBytes)
        scanner = RecordScanner(source: source, maxRecordBytes: maxLineBytes)
        let sample = try scanner.peekStart(minimum: Self.sampleBytes)
        try Self.checkLooksLikeText(sample, name: displayName, path: path)
        if sample.starts(with: [0xEF, 0xBB, 0xBF]) { scanner.skipStartBytes(3) }
        try detectFormat(options: options, path: path)
    }

    /// The next record, or `nil` at the end. Throws only when reading fails midway.
    public func next() throws(InputFileError) -> InputItem? {
        if !pending.isEmpty { return pending.removeFirst() }
        while true {
            switch try scanner.next() {
            case .end:
                return nil
            case .tooLong(let line):
                return problem(line, scanner.record, "line longer than \(Self.describe(bytes: maxLineBytes))")
            case .unterminatedQuote(let line):
                return unterminatedQuote(line)
            case .record(let line, let spansLines):
                if let item = item(line: line, spansLines: spansLines) { return item }
            }
        }
    }

    /// Bytes held in buffers right now; a test hook to prove memory stays flat on hostile input.
    var bufferFootprint: Int { scanner.capacityInBytes }

    // MARK: - Records to items

    private func item(line: Int, spansLines: Bool) -> InputItem? {
        let bytes = scanner.record
        if bytes.contains(0) { return problem(line, bytes, "contains a NUL byte") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return problem(line, bytes, "not valid UTF-8; save the file as UTF-8")
        }
        let location = SourceLocation(file: displayName, line: line)
        switch format {
        case .plain:
            return Self.plainItem(Self.unquoted(text.trimmingSpacesAndTabs()), location: location)
        case .csv(let dialect, let columns):
            let split = dialect.split(bytes[...])
            if split.strayTextAfterQuote && spansLines {
                scanner.rescanAfterFirstLine()
                return unterminatedQuote(line)
            }
            return item(fields: split.fields, columns: columns, location: location, bytes: bytes)
        }
    }

    /// One line of a plain list. Two shapes beyond the bare name: `domain<spaces>date` (the .se/.nu release
    /// lists, `bardate_domains.txt`), where the date is the drop date, and a Markdown bullet `- domain`.
    /// A line whose second part is not a date is left whole, so the normalizer reports its space.
    private static func plainItem(_ text: String, location: SourceLocation) -> InputItem {
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        var text = text
        if text.utf8.count > 2, let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "*"),
           text.utf8.dropFirst().first == space {
            text = String(text.dropFirst(2)).trimmingSpacesAndTabs()
        }
        // The common case, a bare name: one look at its bytes.
        guard let gap = text.utf8.firstIndex(where: { $0 == space || $0 == tab }) else {
            return .domain(text: text, location: location, attributes: DomainAttributes())
        }
        let rest = String(text[gap...]).trimmingSpacesAndTabs()
        if let drop = DropDateParser.parse(rest) {
            return .domain(text: String(text[..<gap]), location: location, attributes: DomainAttributes(dropTime: drop))
        }
        return .domain(text: text, location: location, attributes: DomainAttributes())
    }

    private func item(fields: [String], columns: Columns, location: SourceLocation, bytes: [UInt8]) -> InputItem? {
        // Spreadsheets export empty rows as ",,,": nothing there to report.
        if fields.allSatisfy(\.isEmpty) { return nil }
        guard columns.domain < fields.count else {
            let count = fields.count == 1 ? "1 field" : "\(fields.count) fields"
            return problem(location.line, bytes, "no column \(columns.domain + 1): this line has \(count)")
        }
        var domain = fields[columns.domain]
        if domain.isEmpty { return problem(location.line, bytes, "the domain column (\(columns.domain + 1)) is empty") }
        if let tldColumn = columns.tld, tldColumn < fields.count, !domain.utf8.contains(UInt8(ascii: ".")) {
            let tld = fields[tldColumn].drop { $0 == "." }
            if !tld.isEmpty { domain += "." + tld }
        }
        var attributes = DomainAttributes()
        if let dateColumn = columns.dropDate, dateColumn < fields.count {
            attributes.dropTime = DropDateParser.parse(fields[dateColumn])
        } else if columns.dateInSecondColumn, fields.count > 1 {
            attributes.dropTime = DropDateParser.parse(fields[1])
        }
        if let emailColumn = columns.email, emailColumn < fields.count, !fields[emailColumn].isEmpty {
            attributes.email = fields[emailColumn]
        }
        return .domain(text: domain, location: location, attributes: attributes)
    }

    private func problem<Bytes: Collection<UInt8>>(_ line: Int, _ bytes: Bytes, _ reason: String) -> InputItem {
        .problem(location: SourceLocation(file: displayName, line: line), text: PrintableExcerpt.make(bytes), reason: reason)
    }

    private func unterminatedQuote(_ line: Int) -> InputItem {
        problem(line, scanner.firstLineOfRecord, "unterminated quote: a field opened with \" on this line never closes; the lines after it are read on their own")
    }

    private static func unquoted(_ text: String) -> String {
        // `count` walks the whole text for Characters; a text that does not start and end with a quote byte
        // cannot pass the checks below, and that is nearly every line.
        guard text.utf8.first == UInt8(ascii: "\""), text.utf8.last == UInt8(ascii: "\"") else { return text }
        guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return text }
        return String(text.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
    }

    // MARK: - Format and header

    private func detectFormat(options: InputOptions, path: String) throws(InputFileError) {
        // The first data line decides: problems before it are kept for next() to hand out.
        var delimiter: UInt8?
        while true {
            let event = try scanner.next()
            guard try keepLooking(event) else { break }
            if case .record(let line, _) = event {
                if skippedTitle == nil, let kind = Self.titleKind(scanner.record, delimiter: options.delimiter) {
                    let location = SourceLocation(file: displayName, line: line)
                    skippedTitle = SkippedLine(location: location, text: PrintableExcerpt.make(scanner.record), kind: kind)
                    continue
                }
                delimiter = options.delimiter ?? CSVDialect.detectDelimiter(in: scanner.record)
                scanner.rewindRecord()
                break
            }
        }
        let requested = try Self.requestedColumn(options.column, path: path, name: displayName)

        guard let delimiter else {
            if case .number(let number) = requested, number > 1 {
                throw InputFileError(path: path, message: "\(displayName) has one domain per line (no , ; or tab found), so it has no column \(number); drop --column or pass --delimiter")
            }
            try skipPlainHeader(requested)
            format = .plain
            return
        }

        let dialect = CSVDialect(delimiter: delimiter)
        scanner.mode = .csv(dialect)
        var header: [String]?
        while true {
            let event = try scanner.next()
            guard try keepLooking(event) else { break }
            if case .record = event {
                let bytes = scanner.record
                if !bytes.contains(0), String(validating: bytes, as: UTF8.self) != nil {
                    let cells = dialect.split(bytes[...]).fields
                    if cells.contains(where: ColumnName.isKnown) || requested.matchesName(in: cells) {
                        header = cells
                    }
                }
                // Not a header: it is data, and item(...) reports it if it is unreadable.
                if header == nil { scanner.rewindRecord() }
                break
            }
        }
        format = .csv(dialect, try Self.columns(requested: requested, header: header, name: displayName, path: path))
    }

    /// Whether the first data line is a title or a timestamp rather than data: registry dumps start with one
    /// (the .pl list: `2023-04-18 08:23:59 MEST`, then a blank line, then names). A timestamp is a line whose
    /// first word is a date; a title has several words separated by spaces, the first of them without a dot
    /// (so `example.com junk` is still data, reported as invalid). Neither has a field delimiter (`,` `;` tab),
    /// so a CSV row that starts with a date stays data.
    static func titleKind(_ bytes: [UInt8], delimiter: UInt8?) -> SkippedLine.Kind? {
        guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let delimiters = delimiter.map { [$0] } ?? CSVDialect.candidates
        guard let first = words.first, !bytes.contains(where: delimiters.contains) else { return nil }
        // `- name`: the first item of a Markdown list is data.
        if first == "-" || first == "*" { return nil }
        if DropDateParser.parse(first) != nil { return .timestamp }
        guard words.count >= 2, !first.contains(".") else { return nil }
        return .title
    }

    /// Queues the problems met before the first data record; `false` once there is nothing left to look at.
    private func keepLooking(_ event: RecordScanner.Event) throws(InputFileError) -> Bool {
        switch event {
        case .end:
            return false
        case .record:
            return true
        case .tooLong(let line):
            pending.append(problem(line, scanner.record, "line longer than \(Self.describe(bytes: maxLineBytes))"))
        case .unterminatedQuote(let line):
            pending.append(unterminatedQuote(line))
        }
        if pending.count > Self.maxProblemsBeforeData {
            throw InputFileError(path: inputPath, message: "\(displayName): the first \(pending.count) lines cannot be read (longer than \(Self.describe(bytes: maxLineBytes)) or broken quotes); this does not look like a domain list")
        }
        return true
    }

    private func skipPlainHeader(_ requested: RequestedColumn) throws(InputFileError) {
        while true {
            let event = try scanner.next()
            guard try keepLooking(event) else { return }
            if case .record = event {
                let text = String(decoding: scanner.record, as: UTF8.self).trimmingSpacesAndTabs()
                let key = ColumnName.key(Self.unquoted(text))
                let isHeader = ColumnName.domain.contains(key) || requested.matchesName(in: [text])
                if !isHeader { scanner.rewindRecord() }
                return
            }
        }
    }

    private enum RequestedColumn {
        case none
        case number(Int)
        case name(String)

        func matchesName(in cells: [String]) -> Bool {
            guard case .name(let name) = self else { return false }
            return cells.contains { ColumnName.key($0) == ColumnName.key(name) }
        }
    }

    private static func requestedColumn(_ column: String?, path: String, name: String) throws(InputFileError) -> RequestedColumn {
        guard let column = column?.trimmingSpacesAndTabs(), !column.isEmpty else { return .none }
        if column.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let number = Int(column), number >= 1 else {
                throw InputFileError(path: path, message: "--column \(column) is not a column of \(name): columns are numbered from 1")
            }
            return .number(number)
        }
        return .name(column)
    }

    private static func columns(requested: RequestedColumn, header: [String]?, name: String, path: String) throws(InputFileError) -> Columns {
        var columns = Columns(domain: 0, dateInSecondColumn: header == nil)
        switch requested {
        case .number(let number):
            columns.domain = number - 1
        case .name(let wanted):
            guard let header, let index = header.firstIndex(where: { ColumnName.key($0) == ColumnName.key(wanted) }) else {
                let cells = (header ?? []).prefix(20).map { "'\(PrintableExcerpt.make(Array($0.utf8).prefix(40)))'" }
                let seen = cells.isEmpty ? "it has no header line" : "its header has \(cells.joined(separator: ", "))"
                throw InputFileError(path: path, message: "\(name) has no column named '\(wanted)': \(seen); pass one of those names or a column number to --column")
            }
            columns.domain = index
        case .none:
            if let header { columns.domain = ColumnName.index(of: ColumnName.domain, in: header) ?? 0 }
        }
        if columns.domain != 0 { columns.dateInSecondColumn = false }
        if let header {
            columns.dropDate = ColumnName.index(of: ColumnName.dropDate, in: header)
            columns.email = ColumnName.index(of: ColumnName.email, in: header)
            columns.tld = ColumnName.index(of: ColumnName.tld, in: header).flatMap { $0 == columns.domain ? nil : $0 }
        }
        return columns
    }

    // MARK: - Opening

    /// Refuses files that are plainly not text, before they turn into thousands of problem lines.
    private static func checkLooksLikeText(_ sample: ArraySlice<UInt8>, name: String, path: String) throws(InputFileError) {
        if sample.starts(with: [0x1F, 0x8B]) {
            throw InputFileError(path: path, message: "\(name) is gzip-compressed; decompress it first (gunzip -k \(name))")
        }
        if sample.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw InputFileError(path: path, message: "\(name) is a zip archive (an .xlsx spreadsheet?); export it as CSV first")
        }
        if sample.starts(with: [0xFF, 0xFE]) || sample.starts(with: [0xFE, 0xFF]) {
            throw InputFileError(path: path, message: "\(name) is UTF-16 text; save it as UTF-8")
        }
        // Text has almost no control bytes; a single stray NUL is a problem line, not a binary file.
        let suspicious = sample.reduce(0) { count, byte in
            let isControl = byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D && byte != 0x0C && byte != 0x0B
            return count + (isControl || byte == 0x7F ? 1 : 0)
        }
        if suspicious > max(4, sample.count / 20) {
            throw InputFileError(path: path, message: "\(name) looks like a binary file, not a domain list; pass a text file with one domain per line, or a CSV")
        }
    }

    static func describe(bytes: Int) -> String {
        if bytes % (1024 * 1024) == 0 { return "\(bytes / (1024 * 1024)) MiB" }
        if bytes % 1024 == 0 { return "\(bytes / 1024) KiB" }
        return "\(bytes) bytes"
    }
}

/// A leading line skipped as not being data, shown to the user as a note rather than an invalid domain.
public struct SkippedLine: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case title
        case timestamp
    }

    public var location: SourceLocation
    /// A printable excerpt of the line.
    public var text: String
    public var kind: Kind

    public var notice: String {
        "\(location): skipped the leading \(kind.rawValue) line '\(text)': it is not a domain"
    }
}
