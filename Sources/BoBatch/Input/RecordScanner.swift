#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cuts a byte stream into records without ever holding more than one chunk and one capped record.
///
/// A record is a physical line, or in CSV mode several lines when a quoted field spans line breaks. Comment
/// lines (first non-space byte `#`) and blank lines are skipped here so a quote inside a comment cannot open a
/// field. A record over `maxRecordBytes` is never buffered: the scanner reports it and skips to the next line
/// break. A quote that never closes is reported at the line where it opened, and the lines it swallowed are
/// scanned again from a replay buffer, which holds at most one capped record.
struct RecordScanner {
    enum Mode: Equatable {
        case lines
        case csv(CSVDialect)
    }

    enum Event: Equatable {
        case record(startLine: Int, spansLines: Bool)
        case tooLong(startLine: Int)
        case unterminatedQuote(startLine: Int)
        case end
    }

    static let chunkSize = 64 * 1024
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let quote = UInt8(ascii: "\"")

    var mode: Mode
    let maxRecordBytes: Int
    /// A file, or a decompressor over one (see ``ByteSource``), read straight into `buffer`.
    private let source: any ByteSource

    private var buffer: [UInt8]
    private var position = 0
    private var end = 0
    private var reachedEOF = false
    /// Bytes to read again before the stream: a rewound record, or the lines an unterminated quote swallowed.
    private var replay: [UInt8] = []
    private var replayPosition = 0
    /// A read that failed after the start of the input was buffered: thrown once those bytes are used up.
    private var pendingError: InputFileError?

    /// The raw bytes of the last record (terminator excluded), at most `maxRecordBytes`.
    private(set) var record: [UInt8] = []
    private var recordStartLine = 1
    /// Offset in `record` just past its first embedded line break, if it has one.
    private var firstLineEnd: Int?
    /// The byte that ended the last record, `nil` at end of input; a rewind must give it back.
    private var lastTerminator: UInt8?
    private(set) var nextLine = 1
    /// A CR ended the last line; an LF right after it belongs to the same line break.
    private var skipLF = false

    init(source: any ByteSource, maxRecordBytes: Int, mode: Mode = .lines) {
        self.source = source
        self.maxRecordBytes = max(1, maxRecordBytes)
        self.mode = mode
        self.buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        self.record.reserveCapacity(self.maxRecordBytes)
    }

    /// Bytes held by the scanner's buffers, for tests that prove memory stays flat.
    var capacityInBytes: Int { buffer.capacity + record.capacity + replay.capacity }

    /// The first physical line of the last record, for showing where an unterminated quote started.
    var firstLineOfRecord: ArraySlice<UInt8> {
        guard let firstLineEnd else { return record[...] }
        return record[..<(firstLineEnd - 1)]
    }

    // MARK: - Start of input

    /// Reads until `minimum` bytes are buffered (or the input ends) and returns them, unconsumed.
    mutating func peekStart(minimum: Int) throws(InputFileError) -> ArraySlice<UInt8> {
        while end < min(minimum, buffer.count), !reachedEOF, pendingError == nil {
            let count: Int
            do {
                count = try readInto(from: end)
            } catch {
                // The lines before the damage (a cut-short .gz, say) are read first, then the error is thrown.
                if end == position { throw error }
                pendingError = error
                break
            }
            if count == 0 { reachedEOF = true } else { end += count }
        }
        return buffer[position..<end]
    }

    mutating func skipStartBytes(_ count: Int) {
        position = min(end, position + count)
    }

    // MARK: - Records

    mutating func next() throws(InputFileError) -> Event {
        while true {
            if let event = try scanRecord() {
                if case .record = event, record.allSatisfy(Self.isSpace) { continue }
                return event
            }
        }
    }

    /// Puts the last record back, to be read again (after the mode changed, or because it was only a peek).
    mutating func rewindRecord() {
        var again = record
        if let lastTerminator { again.append(lastTerminator) }
        again.append(contentsOf: replay[replayPosition...])
        replay = again
        replayPosition = 0
        nextLine = recordStartLine
        skipLF = false
    }

    /// Gives back everything after the first line of the last record: a stray quote joined those lines.
    mutating func rescanAfterFirstLine() {
        rescanAfterFirstLine(pending: nil, terminator: lastTerminator)
    }

    private mutating func rescanAfterFirstLine(pending: UInt8?, terminator: UInt8?) {
        guard let cut = firstLineEnd else { return }
        // The first line's break was kept whole; an LF after its CR is not a line of its own.
        var start = cut
        if start < record.count, record[start] == Self.lf, record[start - 1] == Self.cr { start += 1 }
        var again = Array(record[start...])
        if let pending { again.append(pending) }
        if let terminator { again.append(terminator) }
        again.append(contentsOf: replay[replayPosition...])
        replay = again
        replayPosition = 0
        nextLine = recordStartLine + 1
        skipLF = false
        record.removeSubrange(cut...)
    }

    /// One record, or `nil` for a comment line.
    private mutating func scanRecord() throws(InputFileError) -> Event? {
        record.removeAll(keepingCapacity: true)
        firstLineEnd = nil
        lastTerminator = nil
        recordStartLine = nextLine
        let dialect: CSVDialect? = if case .csv(let dialect) = mode { dialect } else { nil }
        var inQuotes = false
        var quoteMayClose = false
        var atFieldStart = true
        var atRecordStart = true
        var sawByte = false
        /// A CR inside quotes was just kept: an LF right after it is the rest of a CR LF, kept too (RFC 4180 field
        /// text is read back as written), on the same line count.
        var quotedCR = false

        while true {
            guard let byte = try nextByte() else {
                if !sawByte { return .end }
                if inQuotes && !quoteMayClose {
                    rescanAfterFirstLine(pending: nil, terminator: nil)
                    return .unterminatedQuote(startLine: recordStartLine)
                }
                return .record(startLine: recordStartLine, spansLines: firstLineEnd != nil)
            }
            if skipLF {
                skipLF = false
                if byte == Self.lf { continue }
            }
            sawByte = true
            if quotedCR {
                quotedCR = false
                if byte == Self.lf && inQuotes && !quoteMayClose {
                    if let event = try append(byte, inQuotes: true) { return event }
                    continue
                }
            }

            if inQuotes {
                if quoteMayClose {
                    quoteMayClose = false
                    if byte == Self.quote {
                        if let event = try append(byte, inQuotes: true) { return event }
                        continue
                    }
                    inQuotes = false
                    // The quote closed; this byte is ordinary text again, handled below.
                } else {
                    if byte == Self.quote {
                        quoteMayClose = true
                    } else if byte == Self.lf || byte == Self.cr {
                        if let event = try append(byte, inQuotes: true) { return event }
                        nextLine += 1
                        if byte == Self.cr { quotedCR = true }
                        if firstLineEnd == nil { firstLineEnd = record.count }
                        continue
                    }
                    if let event = try append(byte, inQuotes: true) { return event }
                    continue
                }
            }

            if byte == Self.lf || byte == Self.cr {
                endLine(with: byte)
                return .record(startLine: recordStartLine, spansLines: firstLineEnd != nil)
            }
            if atRecordStart {
                if !Self.isSpace(byte) {
                    atRecordStart = false
                    if byte == UInt8(ascii: "#") {
                        try skipRestOfLine()
                        return nil
                    }
                }
            }
            if let dialect {
                if byte == Self.quote && atFieldStart {
                    inQuotes = true
                    atFieldStart = false
                } else if byte == dialect.delimiter {
                    atFieldStart = true
                } else if !dialect.isPadding(byte) {
                    atFieldStart = false
                }
            }
            if let event = try append(byte, inQuotes: inQuotes) { return event }
        }
    }

    /// Appends, or ends the record when it would grow past the cap.
    private mutating func append(_ byte: UInt8, inQuotes: Bool) throws(InputFileError) -> Event? {
        if record.count < maxRecordBytes {
            record.append(byte)
            return nil
        }
        if inQuotes && firstLineEnd != nil {
            rescanAfterFirstLine(pending: byte, terminator: nil)
            return .unterminatedQuote(startLine: recordStartLine)
        }
        if byte == Self.lf || byte == Self.cr {
            endLine(with: byte)
        } else {
            try skipRestOfLine()
        }
        return .tooLong(startLine: recordStartLine)
    }

    private mutating func endLine(with terminator: UInt8) {
        nextLine += 1
        lastTerminator = terminator
        if terminator == Self.cr { skipLF = true }
    }

    /// Skips to just past the next line break without looking at quotes or keeping anything.
    private mutating func skipRestOfLine() throws(InputFileError) {
        while true {
            if replayPosition < replay.count {
                guard let byte = try nextByte() else { return }
                if byte == Self.lf || byte == Self.cr {
                    endLine(with: byte)
                    return
                }
                continue
            }
            if position == end {
                guard try refill() else { return }
            }
            let start = position, stop = end
            let found: Int? = buffer.withUnsafeBufferPointer { bytes in
                var index = start
                while index < stop {
                    let byte = bytes[index]
                    if byte == Self.lf || byte == Self.cr { return index }
                    index += 1
                }
                return nil
            }
            if let found {
                position = found + 1
                endLine(with: buffer[found])
                return
            }
            position = stop
        }
    }

    // MARK: - Bytes

    private mutating func nextByte() throws(InputFileError) -> UInt8? {
        if replayPosition < replay.count {
            let byte = replay[replayPosition]
            replayPosition += 1
            if replayPosition == replay.count {
                replay.removeAll(keepingCapacity: true)
                replayPosition = 0
            }
            return byte
        }
        if position == end {
            guard try refill() else { return nil }
        }
        let byte = buffer[position]
        position += 1
        return byte
    }

    private mutating func refill() throws(InputFileError) -> Bool {
        if reachedEOF { return false }
        position = 0
        end = 0
        let count = try readInto(from: 0)
        if count == 0 {
            reachedEOF = true
            return false
        }
        end = count
        return true
    }

    private mutating func readInto(from offset: Int) throws(InputFileError) -> Int {
        if let pendingError { throw pendingError }
        let source = self.source
        let result = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(InputFileError) -> Int in try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[offset...])) }
        }
        return try result.get()
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
}
