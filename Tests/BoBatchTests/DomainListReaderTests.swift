import Foundation
import Testing
@testable import BoBatch

/// A flattened `InputItem` that compares easily.
private enum Read: Equatable, CustomStringConvertible {
    case domain(String, line: Int, drop: Date? = nil, email: String? = nil)
    case problem(line: Int, reason: String)

    init(_ item: InputItem) {
        switch item {
        case .domain(let text, let location, let attributes):
            self = .domain(text, line: location.line, drop: attributes.dropTime, email: attributes.email)
        case .problem(let location, _, let reason):
            self = .problem(line: location.line, reason: reason)
        }
    }

    var description: String {
        switch self {
        case .domain(let text, let line, let drop, let email): "\(line): \(text.debugDescription) \(drop.map { "\($0)" } ?? "-") \(email ?? "-")"
        case .problem(let line, let reason): "\(line): problem \(reason)"
        }
    }
}

/// A temporary directory per test, so tests can run in parallel.
private final class Scratch {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bo-batch-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func file(_ name: String = "list.txt", bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func file(_ name: String, _ text: String) throws -> String {
        try file(name, bytes: Array(text.utf8))
    }

    func file(_ text: String) throws -> String {
        try file("list.txt", text)
    }
}

private func readAll(_ path: String, options: InputOptions = InputOptions()) throws -> [InputItem] {
    let reader = try DomainListReader(path: path, options: options)
    var items: [InputItem] = []
    while let item = try reader.next() { items.append(item) }
    return items
}

private func read(_ path: String, options: InputOptions = InputOptions()) throws -> [Read] {
    try readAll(path, options: options).map(Read.init)
}

private func openError(_ path: String, options: InputOptions = InputOptions()) -> String? {
    do {
        _ = try DomainListReader(path: path, options: options)
        return nil
    } catch {
        return error.message
    }
}

private func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
}

@Suite("DomainListReader")
struct DomainListReaderTests {
    @Test func plainListWithCommentsBlankLinesBOMAndCRLF() throws {
        let scratch = try Scratch()
        let path = try scratch.file("\u{FEFF}# dropping tomorrow\r\n\r\nexample.com\r\n  Spaced.ORG  \r\n   # indented comment, \"quoted\"\r\n\t\r\nlast.net")
        #expect(try read(path) == [
            .domain("example.com", line: 3),
            .domain("Spaced.ORG", line: 4),
            .domain("last.net", line: 7),
        ])
        let items = try readAll(path)
        #expect(items.first?.location == SourceLocation(file: path, line: 3))
        #expect(items.first?.location.description == "\(path):3")
    }

    @Test func plainListLineEndings() throws {
        let scratch = try Scratch()
        #expect(try read(scratch.file("a.com\rb.com\rc.com")) == [
            .domain("a.com", line: 1), .domain("b.com", line: 2), .domain("c.com", line: 3),
        ])
        #expect(try read(scratch.file("lf.txt", "a.com\n\nb.com\n")) == [.domain("a.com", line: 1), .domain("b.com", line: 3)])
        #expect(try read(scratch.file("empty.txt", "")) == [])
        #expect(try read(scratch.file("comments.txt", "# only\n#comments\n\n")) == [])
    }

    @Test func plainListSkipsADomainHeaderAndUnquotes() throws {
        let scratch = try Scratch()
        #expect(try read(scratch.file("Domain\n\"quoted.com\"\nplain.com\n")) == [
            .domain("quoted.com", line: 2), .domain("plain.com", line: 3),
        ])
    }

    @Test func csvDomainDateWithoutHeader() throws {
        let scratch = try Scratch()
        let path = try scratch.file("list.csv", "a.com,2025-10-27,PendingDelete\nb.com,10/27/2025 18:00,x\nc.com,not a date,y\nd.com,1761588000\ne.com\n")
        #expect(try read(path) == [
            .domain("a.com", line: 1, drop: utc(2025, 10, 27)),
            .domain("b.com", line: 2, drop: utc(2025, 10, 27, 18)),
            .domain("c.com", line: 3),
            .domain("d.com", line: 4, drop: Date(timeIntervalSince1970: 1_761_588_000)),
            .domain("e.com", line: 5),
        ])
    }

    @Test func csvSemicolonWithAndWithoutHeader() throws {
        let scratch = try Scratch()
        let withHeader = try scratch.file("h.csv", "domain;drop_date\nexample.com;2025-10-27 18:00:00 UTC\nother.net ; 2025-10-28T06:30:00Z\n")
        #expect(try read(withHeader) == [
            .domain("example.com", line: 2, drop: utc(2025, 10, 27, 18)),
            .domain("other.net", line: 3, drop: utc(2025, 10, 28, 6, 30)),
        ])
        let withoutHeader = try scratch.file("n.csv", "example.com;2025-10-27 18:00\n")
        #expect(try read(withoutHeader) == [.domain("example.com", line: 1, drop: utc(2025, 10, 27, 18))])
    }

    @Test func csvWithHeaderDomainTLDTypeDropDate() throws {
        let scratch = try Scratch()
        let path = try scratch.file("drops.csv", "Domain,TLD,Type,Drop Date\nexample.com,com,Pending Delete,2025-10-27\nsplit,net,Expired,2025-10-27T18:00:00+02:00\n")
        #expect(try read(path) == [
            .domain("example.com", line: 2, drop: utc(2025, 10, 27)),
            .domain("split.net", line: 3, drop: utc(2025, 10, 27, 16)),
        ])
    }

    @Test func aColumnNamedJustDropIsTheDropDate() throws {
        let scratch = try Scratch()
        let path = try scratch.file("d.csv", "Domain,Drop\nexample.com,2025-10-27\n")
        #expect(try read(path) == [.domain("example.com", line: 2, drop: utc(2025, 10, 27))])
    }

    @Test func csvHeaderPicksDomainAndEmailColumns() throws {
        let scratch = try Scratch()
        let path = try scratch.file("e.csv", "id\tWHOIS Email\tDomain_Name\n1\towner@example.org\texample.com\n2\t\tnext.com\n")
        #expect(try read(path) == [
            .domain("example.com", line: 2, email: "owner@example.org"),
            .domain("next.com", line: 3),
        ])
    }

    @Test func columnOption() throws {
        let scratch = try Scratch()
        let path = try scratch.file("c.csv", "Rank,Name,Backlinks\n1,first.com,10\n2,second.com,20\n")
        #expect(try read(path, options: InputOptions(column: "name")) == [.domain("first.com", line: 2), .domain("second.com", line: 3)])
        #expect(try read(path, options: InputOptions(column: "2")) == [.domain("first.com", line: 2), .domain("second.com", line: 3)])
        let noHeader = try scratch.file("n.csv", "1,first.com\n2,second.com,extra\n3\n")
        #expect(try read(noHeader, options: InputOptions(column: "2")) == [
            .domain("first.com", line: 1), .domain("second.com", line: 2), .problem(line: 3, reason: "no column 2: this line has 1 field"),
        ])
        #expect(try read(noHeader, options: InputOptions(delimiter: UInt8(ascii: ";"))) == [
            .domain("1,first.com", line: 1), .domain("2,second.com,extra", line: 2), .domain("3", line: 3),
        ])
    }

    @Test func unknownColumnNameListsTheColumnsSeen() throws {
        let scratch = try Scratch()
        let path = try scratch.file("c.csv", "Domain,TLD,Drop Date\na.com,com,2025-10-27\n")
        #expect(openError(path, options: InputOptions(column: "hostname"))
            == "\(path) has no column named 'hostname': its header has 'Domain', 'TLD', 'Drop Date'; pass one of those names or a column number to --column")
        #expect(openError(path, options: InputOptions(column: "0"))?.contains("columns are numbered from 1") == true)
        let plain = try scratch.file("p.txt", "a.com\n")
        #expect(openError(plain, options: InputOptions(column: "3"))?.contains("has no column 3") == true)
    }

    @Test func quotedFieldsWithDelimitersQuotesAndNewlines() throws {
        let scratch = try Scratch()
        let path = try scratch.file("q.csv", "\"a,b\",x\n\"quoted \"\"name\"\".com\" , 2025-10-27\n\"multi\r\nline.com\",\"2025-10-27\"\nnext.com,\"10/28/2025\"\n,,\n")
        #expect(try read(path) == [
            .domain("a,b", line: 1),
            .domain("quoted \"name\".com", line: 2, drop: utc(2025, 10, 27)),
            .domain("multi\r\nline.com", line: 3, drop: utc(2025, 10, 27)),
            .domain("next.com", line: 5, drop: utc(2025, 10, 28)),
        ])
    }

    @Test func unterminatedQuoteIsReportedWhereItStartsAndLaterLinesAreRead() throws {
        let scratch = try Scratch()
        let atEnd = try scratch.file("a.csv", "a.com,2025-10-27\nb.com,\"oops\nc.com,2025-10-28\nd.com,2025-10-29\n")
        let items = try readAll(atEnd)
        #expect(items.map(Read.init) == [
            .domain("a.com", line: 1, drop: utc(2025, 10, 27)),
            .problem(line: 2, reason: "unterminated quote: a field opened with \" on this line never closes; the lines after it are read on their own"),
            .domain("c.com", line: 3, drop: utc(2025, 10, 28)),
            .domain("d.com", line: 4, drop: utc(2025, 10, 29)),
        ])
        if case .problem(_, let text, _) = items[1] { #expect(text == "b.com,\"oops") } else { Issue.record("expected a problem") }

        // A later quote "closes" it, leaving text after the closing quote: the same stray quote, read the same way.
        let closedLater = try scratch.file("b.csv", "a.com,x\r\nb.com,\"oops\r\nc.com,\"q\"\r\nd.com,y\r\n")
        let lines = try read(closedLater).map { (item: Read) -> Read in
            if case .problem(let line, _) = item { return .problem(line: line, reason: "") }
            return item
        }
        #expect(lines == [
            .domain("a.com", line: 1), .problem(line: 2, reason: ""), .domain("c.com", line: 3), .domain("d.com", line: 4),
        ])

        // Past the record cap the quote cannot be legitimate; nothing after it may be swallowed.
        var capped = "a.com,1\nb.com,\"never closed\n"
        for index in 0..<200 { capped += "d\(index).com,2\n" }
        let cappedItems = try read(scratch.file("c.csv", capped), options: InputOptions(maxLineBytes: 256))
        #expect(cappedItems.count == 202)
        #expect(cappedItems[1] == .problem(line: 2, reason: "unterminated quote: a field opened with \" on this line never closes; the lines after it are read on their own"))
        #expect(cappedItems.last == .domain("d199.com", line: 202))

        let lastLine = try scratch.file("d.csv", "a.com,1\n\"b.com,2")
        #expect(try read(lastLine).map(\.description) == ["1: \"a.com\" - -", "2: problem unterminated quote: a field opened with \" on this line never closes; the lines after it are read on their own"])
    }

    @Test func invalidUTF8SpoilsOnlyItsLine() throws {
        let scratch = try Scratch()
        let path = try scratch.file(bytes: Array("a.com\nb".utf8) + [0xFF, 0xC3] + Array(".com\nc.com\n".utf8))
        let items = try readAll(path)
        #expect(items.map(Read.init) == [
            .domain("a.com", line: 1), .problem(line: 2, reason: "not valid UTF-8; save the file as UTF-8"), .domain("c.com", line: 3),
        ])
        if case .problem(_, let text, _) = items[1] { #expect(text == "b\u{FFFD}\u{FFFD}.com") } else { Issue.record("expected a problem") }
    }

    @Test func nulByteIsAProblemLine() throws {
        let scratch = try Scratch()
        let path = try scratch.file(bytes: Array("a.com\nb".utf8) + [0] + Array(".com\u{1B}\nc.com\n".utf8))
        let items = try readAll(path)
        #expect(items.map(Read.init) == [.domain("a.com", line: 1), .problem(line: 2, reason: "contains a NUL byte"), .domain("c.com", line: 3)])
        if case .problem(_, let text, _) = items[1] { #expect(text == "b\\0.com\\u{1B}") } else { Issue.record("expected a problem") }
    }

    @Test func tenMegabyteLineIsOneProblemAndMemoryStaysFlat() throws {
        let scratch = try Scratch()
        let huge = [UInt8](repeating: UInt8(ascii: "x"), count: 10 * 1024 * 1024)
        let path = try scratch.file(bytes: Array("a.com\n".utf8) + huge + Array("\nb.com\n".utf8))
        let reader = try DomainListReader(path: path, options: InputOptions())
        var items: [InputItem] = []
        var largestFootprint = 0
        while let item = try reader.next() {
            items.append(item)
            largestFootprint = max(largestFootprint, reader.bufferFootprint)
        }
        #expect(items.map(Read.init) == [.domain("a.com", line: 1), .problem(line: 2, reason: "line longer than 64 KiB"), .domain("b.com", line: 3)])
        if case .problem(_, let text, _) = items[1] { #expect(text.count == 201) } else { Issue.record("expected a problem") }
        // Read chunk + one capped record (+ small slack for allocator rounding); nowhere near the 10 MiB line.
        #expect(largestFootprint <= 3 * 64 * 1024 + 4096)

        // The same inside an open quote on a CSV line: still one line, one problem.
        let quoted = try scratch.file("q.csv", bytes: Array("a.com,1\nb.com,\"".utf8) + huge + Array("\nc.com,2\n".utf8))
        #expect(try read(quoted) == [.domain("a.com", line: 1), .problem(line: 2, reason: "line longer than 64 KiB"), .domain("c.com", line: 3)])
    }

    @Test func manyLinesKeepTheFootprintFlat() throws {
        let scratch = try Scratch()
        var text = "domain,drop date\n"
        text.reserveCapacity(200_000 * 24)
        for index in 0..<200_000 { text += "d\(index).com,2025-10-27\n" }
        let reader = try DomainListReader(path: scratch.file("many.csv", text), options: InputOptions())
        var count = 0
        var largestFootprint = 0
        while let item = try reader.next() {
            guard case .domain = item else { Issue.record("unexpected \(item)"); break }
            count += 1
            if count % 1000 == 0 { largestFootprint = max(largestFootprint, reader.bufferFootprint) }
        }
        #expect(count == 200_000)
        #expect(largestFootprint <= 3 * 64 * 1024 + 4096)
    }

    @Test func linesBeforeTheFirstDomainAreStillReported() throws {
        let scratch = try Scratch()
        let long = String(repeating: "y", count: 300)
        let path = try scratch.file("\(long)\nexample.com\n")
        #expect(try read(path, options: InputOptions(maxLineBytes: 100)) == [.problem(line: 1, reason: "line longer than 100 bytes"), .domain("example.com", line: 2)])
        let hopeless = try scratch.file("h.txt", String(repeating: long + "\n", count: 70))
        #expect(openError(hopeless, options: InputOptions(maxLineBytes: 100))?.contains("does not look like a domain list") == true)
    }

    @Test func unusableFilesThrowWithAFix() throws {
        let scratch = try Scratch()
        var binary: [UInt8] = []
        var seed: UInt32 = 12345
        for _ in 0..<8192 {
            seed = seed &* 1_103_515_245 &+ 12345
            binary.append(UInt8(truncatingIfNeeded: seed >> 16))
        }
        let binaryPath = try scratch.file("image.bin", bytes: binary)
        #expect(openError(binaryPath) == "\(binaryPath) looks like a binary file, not a domain list; pass a text file with one domain per line, or a CSV")
        let gzipPath = try scratch.file("list.txt.gz", bytes: [0x1F, 0x8B, 0x08, 0x00, 0x00])
        // Gzip is read (see CompressedInputTests); these 5 bytes are only the start of a header.
        #expect(openError(gzipPath)?.hasPrefix("\(gzipPath): the gzip data is cut short") == true)
        let utf16Path = try scratch.file("u16.txt", bytes: [0xFF, 0xFE, 0x61, 0x00, 0x2E, 0x00])
        #expect(openError(utf16Path) == "\(utf16Path) is UTF-16 text; save it as UTF-8")

        let directory = scratch.directory.path
        #expect(openError(directory) == "\(directory) is a directory; pass the files in it instead (for example \(directory)/*.txt)")
        let missing = scratch.directory.appendingPathComponent("nope.txt").path
        #expect(openError(missing) == "\(missing): no such file; check the path")
        do {
            _ = try DomainListReader(path: missing, options: InputOptions())
            Issue.record("expected an error")
        } catch {
            #expect(error.path == missing)
        }
    }
}
