import CLibXML2
#if canImport(Glibc)
import Glibc
#endif

/// Why a document could not be turned into an `XMLElement` tree.
public struct XMLParseError: Error, Sendable, CustomStringConvertible {
    /// Human-readable, starting with the line number when libxml2 knows it.
    public var message: String
    /// 1-based line of the problem, when known.
    public var line: Int?

    public init(message: String, line: Int? = nil) {
        self.message = message
        self.line = line
    }

    public var description: String { message }
}

/// Hardened XML parsing of provider answers into plain Swift values.
///
/// Provider answers are untrusted: a hostile or broken endpoint must not be able to read local files,
/// reach the network, or exhaust memory through entity expansion. Hence:
/// - any document type declaration is refused, so no entity can be declared, let alone expanded;
/// - `XML_PARSE_NONET`, and never `NOENT`/`DTDLOAD`/`DTDATTR`/`DTDVALID`/`XINCLUDE`/`HUGE`;
/// - the size is checked before libxml2 sees a byte;
/// - libxml2's streaming reader builds only the Swift tree (no DOM is kept), one reader per call,
///   so concurrent calls share nothing.
///
/// Attributes, comments and processing instructions are dropped: no provider answer we speak needs them.
public enum XMLDocumentParser {
    /// libxml2 must initialise its global tables once, before threads race to do it lazily.
    private static let libraryInitialised: Void = { xmlInitParser() }()

    public static func parse(_ bytes: [UInt8], maxBytes: Int = 64 << 20) throws(XMLParseError) -> XMLElement {
        try stream(bytes, maxBytes: maxBytes, records: [], visit: { _ in })
    }

    /// ``parse(_:maxBytes:)`` for answers that list many records (a whole account's 100,000 backorders): every
    /// element named in `records` is handed to `visit` as soon as it closes, subtree included, and is not kept in
    /// the tree; the returned root holds the rest (the header). So the list never exists as a tree, only one record
    /// at a time, beside the caller's bytes. Records inside records are part of the outer one.
    /// `visit` may see records of a document that turns out malformed later: act on them only once this returns.
    public static func stream(
        _ bytes: [UInt8], maxBytes: Int = 64 << 20, records: Set<String>, visit: (XMLElement) -> Void
    ) throws(XMLParseError) -> XMLElement {
        guard !bytes.isEmpty else { throw XMLParseError(message: "empty document: expected XML, got no bytes") }
        guard bytes.count <= maxBytes else {
            throw XMLParseError(message: "document of \(bytes.count) bytes is over the limit of \(maxBytes) bytes")
        }
        // xmlReaderForMemory takes an `int` size.
        guard bytes.count <= Int(Int32.max) else {
            throw XMLParseError(message: "document of \(bytes.count) bytes is too large for libxml2")
        }
        if let line = documentTypeLineInPrologue(bytes) {
            throw XMLParseError(message: "line \(line): document type declarations are not accepted", line: line)
        }
        _ = libraryInitialised
        let result: Result<XMLElement, XMLParseError> = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                parseBuffer(chars.baseAddress!, count: Int32(chars.count), records: records, visit: visit)
            }
        }
        return try result.get()
    }

    /// ``stream(_:maxBytes:records:visit:)`` for an answer kept in a file (read from its start, a few kilobytes at a
    /// time, so the document never has to be in memory whole). The same limits and refusals; the prologue is
    /// checked in the file's first 64 KiB, and a document still in its prologue past that is refused.
    public static func stream(
        file descriptor: Int32, maxBytes: Int = 64 << 20, records: Set<String>, visit: (XMLElement) -> Void
    ) throws(XMLParseError) -> XMLElement {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw XMLParseError(message: "cannot read the document's file (errno \(errno))") }
        let size = Int(info.st_size)
        guard size > 0 else { throw XMLParseError(message: "empty document: expected XML, got no bytes") }
        guard size <= maxBytes else {
            throw XMLParseError(message: "document of \(size) bytes is over the limit of \(maxBytes) bytes")
        }
        var head = [UInt8](repeating: 0, count: min(size, 64 << 10))
        let got = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard got == head.count else { throw XMLParseError(message: "cannot read the document's file (errno \(errno))") }
        switch prologue(head) {
        case .documentType(let line):
            throw XMLParseError(message: "line \(line): document type declarations are not accepted", line: line)
        case .unfinished where head.count < size:
            throw XMLParseError(message: "a prologue longer than \(head.count) bytes is not accepted")
        case .unfinished, .element:
            break
        }
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw XMLParseError(message: "cannot read the document's file (errno \(errno))") }
        _ = libraryInitialised
        // The reader does not close the descriptor: its owner does.
        guard let reader = xmlReaderForFd(descriptor, nil, nil, options) else {
            throw XMLParseError(message: "libxml2 could not create a reader (out of memory?)")
        }
        return try read(reader, records: records, visit: visit).get()
    }

    private static let options: Int32 = Int32(bitPattern:
        XML_PARSE_NONET.rawValue
        // Errors go to the structured handler below, never to stderr.
        | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
    )

    /// The reader points into `chars` without copying, so everything happens while the caller keeps it alive.
    private static func parseBuffer(
        _ chars: UnsafePointer<CChar>, count: Int32, records: Set<String>, visit: (XMLElement) -> Void
    ) -> Result<XMLElement, XMLParseError> {
        guard let reader = xmlReaderForMemory(chars, count, nil, nil, options) else {
            return .failure(XMLParseError(message: "libxml2 could not create a reader (out of memory?)"))
        }
        return read(reader, records: records, visit: visit)
    }

    /// Reads the document behind `reader` into the tree (and `visit`), then frees the reader.
    private static func read(
        _ reader: xmlTextReaderPtr, records: Set<String>, visit: (XMLElement) -> Void
    ) -> Result<XMLElement, XMLParseError> {
        defer { xmlFreeTextReader(reader) }
        let sink = ErrorSink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        xmlTextReaderSetStructuredErrorHandler(reader, { context, error in
            guard let context, let error else { return }
            Unmanaged<ErrorSink>.fromOpaque(context).takeUnretainedValue().record(error.pointee)
        }, sinkPointer)
        return withExtendedLifetime(sink) { readTree(reader, sink: sink, records: records, visit: visit) }
    }

    private struct OpenElement {
        var name: String
        var text: String = ""
        var children: [XMLElement] = []

        func closed() -> XMLElement { XMLElement(name: name, text: trimmingXMLWhitespace(text), children: children) }
    }

    private static func readTree(
        _ reader: xmlTextReaderPtr, sink: ErrorSink, records: Set<String>, visit: (XMLElement) -> Void
    ) -> Result<XMLElement, XMLParseError> {
        var open: [OpenElement] = []
        /// How many of the open elements are records: inside one, everything belongs to it.
        var openRecords = 0
        var root: XMLElement?
        // The reader interns every element name (prefixed ones too) in its dictionary, which lives as long as the
        // reader: one pointer means one name, so each String is built once (about 20% faster, less memory).
        var names: [UnsafePointer<xmlChar>: String] = [:]

        func close(_ element: XMLElement) {
            if openRecords == 0, !records.isEmpty, !open.isEmpty, records.contains(element.name) {
                visit(element)
            } else if open.isEmpty {
                root = element
            } else {
                open[open.count - 1].children.append(element)
            }
        }

        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            if status < 0 {
                return .failure(sink.error ?? XMLParseError(
                    message: "line \(xmlTextReaderGetParserLineNumber(reader)): malformed XML",
                    line: Int(xmlTextReaderGetParserLineNumber(reader))))
            }
            switch xmlTextReaderNodeType(reader) {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name: String
                if let pointer = xmlTextReaderConstName(reader) {
                    if let known = names[pointer] {
                        name = known
                    } else {
                        name = String(cString: pointer)
                        names[pointer] = name
                    }
                } else {
                    name = ""
                }
                if xmlTextReaderIsEmptyElement(reader) == 1 {
                    close(XMLElement(name: name))
                } else {
                    if !records.isEmpty, !open.isEmpty, records.contains(name) { openRecords += 1 }
                    open.append(OpenElement(name: name))
                }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                guard let element = open.popLast() else { break }
                if !records.isEmpty, !open.isEmpty, records.contains(element.name) { openRecords -= 1 }
                close(element.closed())
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                Int32(XML_READER_TYPE_WHITESPACE.rawValue), Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                if !open.isEmpty, let value = xmlTextReaderConstValue(reader) {
                    open[open.count - 1].text += String(cString: value)
                }
            case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
                // Refusing the declaration outright is what makes XXE and entity amplification impossible,
                // whatever libxml2 version or option set is linked.
                let line = Int(xmlTextReaderGetParserLineNumber(reader))
                return .failure(XMLParseError(
                    message: "line \(line): document type declarations are not accepted", line: line))
            case Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue):
                // Unreachable without a DTD; refuse rather than silently drop text if it ever happens.
                let line = Int(xmlTextReaderGetParserLineNumber(reader))
                return .failure(XMLParseError(message: "line \(line): entity references are not accepted", line: line))
            default:
                break
            }
        }
        if let error = sink.error { return .failure(error) }
        guard let root, open.isEmpty else {
            return .failure(XMLParseError(message: "no complete root element: the document is empty or truncated"))
        }
        return .success(root)
    }
}

extension XMLDocumentParser {
    /// Finds a DOCTYPE before libxml2 parses it: libxml2 reads a whole internal subset (entity declarations
    /// included) before the reader reports the DOCTYPE node, and that code has a long CVE history.
    /// Only ASCII-compatible encodings are recognised here; the reader's own check covers UTF-16.
    static func documentTypeLineInPrologue(_ bytes: [UInt8]) -> Int? {
        if case .documentType(let line) = prologue(bytes) { return line }
        return nil
    }

    enum Prologue: Equatable {
        /// A DOCTYPE starts on this line.
        case documentType(Int)
        /// The first element starts: no DOCTYPE can come.
        case element
        /// The bytes end inside the prologue.
        case unfinished
    }

    /// What the prologue of `bytes` holds, as far as they go.
    static func prologue(_ bytes: [UInt8]) -> Prologue {
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        /// ASCII letters match in either case, so `<!doctype html>` is caught too.
        func at(_ text: String) -> Bool {
            let pattern = Array(text.utf8)
            guard bytes.count - index >= pattern.count else { return false }
            for (offset, expected) in pattern.enumerated() {
                let byte = bytes[index + offset]
                let isLetter = (0x41...0x5A).contains(expected) || (0x61...0x7A).contains(expected)
                guard byte == expected || (isLetter && byte | 0x20 == expected | 0x20) else { return false }
            }
            return true
        }
        func skip(past terminator: String) -> Bool {
            let pattern = Array(terminator.utf8)
            while index + pattern.count <= bytes.count {
                if bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                    index += pattern.count
                    return true
                }
                index += 1
            }
            return false
        }
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D:
                index += 1
            default:
                if at("<?") {
                    guard skip(past: "?>") else { return .unfinished }
                } else if at("<!--") {
                    guard skip(past: "-->") else { return .unfinished }
                } else if at("<!DOCTYPE") {
                    return .documentType(1 + bytes[..<index].count(where: { $0 == 0x0A }))
                } else if bytes.count - index < 9 {
                    // Too few bytes left to tell a DOCTYPE from an element.
                    return .unfinished
                } else {
                    return .element
                }
            }
        }
        return .unfinished
    }
}

/// Keeps the first error libxml2 reports: later ones are usually consequences of it.
private final class ErrorSink {
    var error: XMLParseError?

    func record(_ error: xmlError) {
        guard self.error == nil, error.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        let text = error.message.map { trimmingXMLWhitespace(String(cString: $0)) } ?? "malformed XML (code \(error.code))"
        if error.line > 0 {
            self.error = XMLParseError(message: "line \(error.line): \(text)", line: Int(error.line))
        } else {
            self.error = XMLParseError(message: text)
        }
    }
}

/// XML's own whitespace (space, tab, CR, LF), from both ends.
func trimmingXMLWhitespace(_ text: String) -> String {
    let utf8 = text.utf8
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
    guard let first = utf8.firstIndex(where: { !isSpace($0) }) else { return "" }
    let last = utf8.lastIndex(where: { !isSpace($0) })!
    if first == utf8.startIndex && last == utf8.index(before: utf8.endIndex) { return text }
    return String(text[first...last])
}
