import Foundation
import Testing
@testable import BoBatch

/// Archives are made by Python's own gzip and zipfile modules (no binaries in the repository), written into a
/// temporary directory per test.
private final class Fixtures {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("bo-batch-compressed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Runs `script` with `sys.argv[1]` = the output path, `sys.argv[2]` = a JSON argument; returns the path.
    @discardableResult
    func python(_ name: String, _ script: String, _ argument: Any = [String]()) throws -> String {
        let out = path(name)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        // The argument goes in on stdin: a long list is over the limit of a command line.
        let json = try JSONSerialization.data(withJSONObject: argument, options: [.fragmentsAllowed])
        let input = Pipe()
        process.standardInput = input
        let prelude = "import gzip, io, json, sys, zipfile, zlib\nout = sys.argv[1]\narg = json.load(sys.stdin)\n"
        process.arguments = ["-c", prelude + script, out]
        let err = Pipe()
        process.standardError = err
        try process.run()
        input.fileHandleForWriting.write(json)
        try input.fileHandleForWriting.close()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python: \(String(decoding: message, as: UTF8.self))")
        return out
    }

    /// A gzip file of `text`.
    func gzip(_ name: String, _ text: String) throws -> String {
        try python(name, "open(out, 'wb').write(gzip.compress(arg.encode(), mtime=0))", text)
    }

    /// A zip archive of `members`: [name, text, "deflate"|"stored"], in order.
    func zip(_ name: String, _ members: [[String]]) throws -> String {
        try python(name, """
            with zipfile.ZipFile(out, 'w') as z:
                for name, text, method in arg:
                    z.writestr(name, text.encode('latin-1'), compress_type=zipfile.ZIP_DEFLATED if method == 'deflate' else zipfile.ZIP_STORED)
            """, members)
    }

    func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
        return path(name)
    }
}

/// Domains `first..<first+count` of a list, one per line.
private func names(_ count: Int, from first: Int = 0, tld: String = "com") -> [String] {
    (first..<(first + count)).map { "name\($0)-drop.\(tld)" }
}

/// What one input gave: its name, the domains read, and the error that ended it (if any).
private struct Read: Equatable {
    var name: String
    var domains: [String]
    var error: String?
}

/// Reads every input the paths stand for, the way SubmitJob does; notes are collected.
private func readInputs(_ paths: [String], member: String? = nil, notes: inout [String]) -> [Read] {
    var out: [Read] = []
    for input in ListInputs(paths: paths, options: InputOptions(member: member)) {
        var read = Read(name: input.name, domains: [])
        do {
            guard let reader = try input.open(note: { notes.append($0) }) else { continue }
            while let item = try reader.next() {
                if case .domain(let text, let location, _) = item {
                    #expect(location.file == input.name)
                    read.domains.append(text)
                }
            }
        } catch {
            read.error = error.message
        }
        out.append(read)
    }
    return out
}

private func readInputs(_ paths: [String], member: String? = nil) -> [Read] {
    var notes: [String] = []
    return readInputs(paths, member: member, notes: &notes)
}

@Suite("Compressed input")
struct CompressedInputTests {
    // MARK: gzip

    @Test func aGzipListReadsLikeItsText() throws {
        let fixtures = try Fixtures()
        let list = names(500)
        let text = "# pending deletes\n" + list.joined(separator: "\n") + "\n"
        let path = try fixtures.gzip("list.txt.gz", text)
        #expect(readInputs([path]) == [Read(name: path, domains: list)])
        // Told by its content: the same bytes under a name that says nothing.
        let renamed = try fixtures.write(try fixtures.bytes(path), "pending")
        #expect(readInputs([renamed]) == [Read(name: renamed, domains: list)])
        // The reader's own entry point reads it too, with line numbers of the text.
        let reader = try DomainListReader(path: path, options: InputOptions())
        guard case .domain(let first, let location, _) = try reader.next() else { Issue.record("no domain"); return }
        #expect(first == list[0] && location.line == 2)
    }

    @Test func concatenatedGzipMembersAndZeroPaddingReadAsOneText() throws {
        let fixtures = try Fixtures()
        let path = try fixtures.python("two.gz", """
            data = gzip.compress(arg[0].encode(), mtime=0) + gzip.compress(arg[1].encode(), mtime=0) + bytes(512)
            open(out, 'wb').write(data)
            """, [names(300).joined(separator: "\n") + "\n", names(200, from: 300).joined(separator: "\n") + "\n"])
        #expect(readInputs([path]) == [Read(name: path, domains: names(500))])
        let garbage = try fixtures.write(try fixtures.bytes(path) + Array("trailing".utf8), "garbage.gz")
        let read = readInputs([garbage])
        #expect(read.first?.domains == names(500))
        #expect(read.first?.error?.contains("unexpected bytes after the end of the gzip data") == true, "\(read)")
    }

    @Test func anEmptyGzipFileIsAnEmptyList() throws {
        let fixtures = try Fixtures()
        let path = try fixtures.gzip("empty.gz", "")
        #expect(readInputs([path]) == [Read(name: path, domains: [])])
    }

    @Test func aCutShortGzipKeepsEveryLineBeforeTheCut() throws {
        let fixtures = try Fixtures()
        let list = names(40_000)
        let whole = try fixtures.bytes(try fixtures.gzip("whole.gz", list.joined(separator: "\n") + "\n"))
        let path = try fixtures.write(Array(whole.prefix(whole.count / 2)), "cut.txt.gz")
        let read = try #require(readInputs([path]).first)
        #expect(read.domains.count > 1000 && read.domains.count < list.count)
        #expect(read.domains == Array(list.prefix(read.domains.count)), "a line was lost or a partial line kept")
        #expect(read.error?.hasPrefix("\(path): the gzip data is cut short: the file ends inside compressed data, after ") == true, "\(read.error ?? "no error")")
        #expect(read.error?.contains("the lines before that were read") == true)

        // Cut inside the header: nothing to keep, the whole file is reported.
        let header = try fixtures.write(Array(whole.prefix(5)), "header.gz")
        #expect(readInputs([header]).first?.error?.contains("cut short") == true)
    }

    @Test func damagedDeflateDataAndABadChecksumAreReportedAfterTheGoodLines() throws {
        let fixtures = try Fixtures()
        let list = names(40_000)
        let whole = try fixtures.bytes(try fixtures.gzip("whole.gz", list.joined(separator: "\n") + "\n"))

        // Two halves with a full flush between them, so the second starts a deflate block on a byte boundary;
        // 0xFF there is a final block of the reserved type 3, which zlib refuses ("invalid block type").
        let halves = try fixtures.python("halves.gz", """
            c = zlib.compressobj(6, zlib.DEFLATED, 31)
            first = c.compress(arg[0].encode()) + c.flush(zlib.Z_FULL_FLUSH)
            data = bytearray(first + c.compress(arg[1].encode()) + c.flush())
            data[len(first)] = 0xFF
            open(out, 'wb').write(data)
            """, [list.prefix(20_000).joined(separator: "\n") + "\n", list.dropFirst(20_000).joined(separator: "\n") + "\n"])
        let read = try #require(readInputs([halves]).first)
        #expect(read.domains == Array(list.prefix(20_000)))
        #expect(read.error?.hasPrefix("\(halves): the gzip data is damaged (invalid block type), after ") == true, "\(read.error ?? "no error")")

        // The CRC-32 in the trailer: every line inflates fine, the check at the end fails.
        var badCRC = whole
        badCRC[whole.count - 8] ^= 0x55
        let checked = try #require(readInputs([try fixtures.write(badCRC, "crc.gz")]).first)
        #expect(checked.domains == list)
        #expect(checked.error?.contains("fails its integrity check (incorrect data check)") == true, "\(checked.error ?? "no error")")
    }

    // MARK: zip

    @Test func everyTextMemberOfAZipIsAListOfItsOwnInOrder() throws {
        let fixtures = try Fixtures()
        let path = try fixtures.zip("lists.zip", [
            ["readme/", "", "stored"],
            ["a.csv", "domain;drop\n" + names(100).map { "\($0);2030-08-20 17:00:00" }.joined(separator: "\n"), "deflate"],
            ["logo.png", "\u{89}PNG\r\n\u{1A}\n\u{0}\u{0}\u{0}\rIHDR", "stored"],
            ["sub/b.txt", names(50, from: 100).joined(separator: "\r\n"), "stored"],
            ["empty.txt", "", "deflate"],
        ])
        var notes: [String] = []
        let read = readInputs([path], notes: &notes)
        #expect(read == [
            Read(name: "\(path):a.csv", domains: names(100)),
            Read(name: "\(path):sub/b.txt", domains: names(50, from: 100)),
            Read(name: "\(path):empty.txt", domains: []),
        ])
        #expect(notes == ["\(path):logo.png: skipped, it is a PNG image (pass --member NAME to read one member only)"])
    }

    @Test func memberPicksOneByPathOrFileName() throws {
        let fixtures = try Fixtures()
        let path = try fixtures.zip("lists.zip", [
            ["x/a.txt", names(10).joined(separator: "\n"), "deflate"],
            ["x/b.txt", names(10, from: 10).joined(separator: "\n"), "deflate"],
        ])
        #expect(readInputs([path], member: "x/b.txt") == [Read(name: "\(path):x/b.txt", domains: names(10, from: 10))])
        #expect(readInputs([path], member: "a.txt") == [Read(name: "\(path):x/a.txt", domains: names(10))])
        #expect(readInputs([path], member: "c.txt") == [Read(name: path, domains: [], error: "\(path) has no member named 'c.txt'; it has: x/a.txt, x/b.txt")])
        // Not a zip: --member does not apply, the file is read whole.
        let plain = try fixtures.write(Array("plain.com\n".utf8), "plain.txt")
        #expect(readInputs([plain], member: "c.txt") == [Read(name: plain, domains: ["plain.com"])])
    }

    @Test func aZipWrittenToAPipeHasDataDescriptorsAndStillReads() throws {
        let fixtures = try Fixtures()
        // Written to a stream that cannot seek: zipfile sets bit 3 and writes CRC and sizes after each member.
        let script = """
            class Pipe:
                def __init__(self): self.data = bytearray()
                def write(self, b): self.data += b; return len(b)
                def flush(self): pass
            pipe = Pipe()
            with zipfile.ZipFile(pipe, 'w') as z:
                for name, text, method in arg:
                    z.writestr(name, text.encode(), compress_type=zipfile.ZIP_DEFLATED if method == 'deflate' else zipfile.ZIP_STORED)
            open(out, 'wb').write(pipe.data)
            """
        let path = try fixtures.python("piped.zip", script, [["a.txt", names(3000).joined(separator: "\n"), "deflate"], ["b.txt", names(5, from: 3000).joined(separator: "\n"), "deflate"]])
        #expect(try fixtures.bytes(path)[6] & 0x08 != 0, "the fixture has no data descriptor")
        #expect(readInputs([path]) == [Read(name: "\(path):a.txt", domains: names(3000)), Read(name: "\(path):b.txt", domains: names(5, from: 3000))])

        // A stored member with bit 3 ends at the descriptor whose CRC and sizes match what came before it; a
        // descriptor's signature inside the text is just text.
        let stored = try fixtures.python("stored.zip", script, [["s.txt", "a.com\nPK\u{7}\u{8}\nb.com\n", "stored"], ["t.txt", "c.com\n", "stored"]])
        #expect(readInputs([stored]) == [Read(name: "\(stored):s.txt", domains: ["a.com", "PK\u{7}\u{8}", "b.com"]), Read(name: "\(stored):t.txt", domains: ["c.com"])])
    }

    @Test func zip64SizesAreRead() throws {
        let fixtures = try Fixtures()
        let path = try fixtures.python("z64.zip", """
            with zipfile.ZipFile(out, 'w', compression=zipfile.ZIP_DEFLATED) as z:
                with z.open('big.txt', 'w', force_zip64=True) as f:
                    f.write(arg.encode())
                z.writestr('next.txt', b'next-member.com\\n')
            """, names(1000).joined(separator: "\n") + "\n")
        #expect(readInputs([path]) == [Read(name: "\(path):big.txt", domains: names(1000)), Read(name: "\(path):next.txt", domains: ["next-member.com"])])
    }

    @Test func damagedZipsAreReportedWithTheMemberAndKeepWhatCameBefore() throws {
        let fixtures = try Fixtures()
        let list = names(40_000)
        let path = try fixtures.zip("good.zip", [["first.txt", "first.com\n", "stored"], ["list.csv", list.joined(separator: "\n") + "\n", "deflate"]])
        let whole = try fixtures.bytes(path)
        let second = try #require(firstIndex(of: Array("list.csv".utf8), in: whole)) - 30

        // Cut short in the middle of the second member.
        let cut = readInputs([try fixtures.write(Array(whole.prefix(whole.count / 2)), "cut.zip")])
        #expect(cut.count == 2)
        #expect(cut.first == Read(name: "\(fixtures.path("cut.zip")):first.txt", domains: ["first.com"]))
        #expect(cut.last?.domains == Array(list.prefix(cut.last?.domains.count ?? 0)) && (cut.last?.domains.count ?? 0) > 1000)
        #expect(cut.last?.error?.hasPrefix("\(fixtures.path("cut.zip")):list.csv: the zip archive is cut short inside this member, after ") == true, "\(cut)")

        // A bad CRC-32 in the member's header.
        var badCRC = whole
        badCRC[second + 14] ^= 0x55
        let crc = readInputs([try fixtures.write(badCRC, "crc.zip")])
        #expect(crc.last?.domains == list)
        #expect(crc.last?.error?.contains("list.csv: the member fails its CRC-32 check: it is damaged") == true, "\(crc)")

        // Damaged deflate data.
        var damaged = whole
        for i in (whole.count / 2)..<(whole.count / 2 + 64) { damaged[i] = 0xFF }
        let bad = readInputs([try fixtures.write(damaged, "damaged.zip")])
        #expect(bad.last?.error?.contains("list.csv: ") == true && bad.last?.error?.contains("damaged") == true, "\(bad)")

        // Cut exactly after the last member: every member read, the missing table of contents still reported.
        let end = try #require(firstIndex(of: [0x50, 0x4B, 0x01, 0x02], in: whole))
        let headless = readInputs([try fixtures.write(Array(whole.prefix(end)), "headless.zip")])
        #expect(headless.map(\.domains) == [["first.com"], list, []])
        #expect(headless.last?.error?.contains("the zip archive is cut short: it ends after 2 members, without its table of contents") == true, "\(headless)")
    }

    @Test func emptyAndTextlessArchivesAreFileErrors() throws {
        let fixtures = try Fixtures()
        let empty = try fixtures.zip("empty.zip", [])
        #expect(readInputs([empty]) == [Read(name: empty, domains: [], error: "\(empty) is an empty zip archive (it has no members)")])

        let pictures = try fixtures.python("pictures.zip", """
            with zipfile.ZipFile(out, 'w') as z:
                z.writestr('a.png', b'\\x89PNG\\r\\n\\x1a\\n' + bytes(range(256)) * 8)
                z.writestr('b.bin', bytes(range(256)) * 8, compress_type=zipfile.ZIP_DEFLATED)
            """)
        var notes: [String] = []
        let read = readInputs([pictures], notes: &notes)
        #expect(read == [Read(name: pictures, domains: [], error: "\(pictures) has no text or CSV member (it has: a.png, b.bin); pass --member NAME to read one anyway")])
        #expect(notes.count == 2 && notes[1].contains("b.bin: skipped, it looks like a binary file"), "\(notes)")
        // A spreadsheet is a zip of XML: one clear message, not thousands of invalid lines.
        let sheet = try fixtures.zip("prices.xlsx", [["[Content_Types].xml", "<?xml version=\"1.0\"?><Types/>", "deflate"], ["xl/worksheets/sheet1.xml", "<worksheet/>", "deflate"]])
        #expect(readInputs([sheet]) == [Read(name: sheet, domains: [], error: "\(sheet) is a spreadsheet or office document (.xlsx, .ods: a zip of XML), not a zip of lists; export it as CSV first")])
        // Chosen by name, a binary member is the reader's to refuse, as a binary file is.
        let chosen = readInputs([pictures], member: "b.bin")
        #expect(chosen.first?.error?.contains("b.bin looks like a binary file") == true, "\(chosen)")
    }

    @Test func unsupportedMembersAreSkippedWithTheirReason() throws {
        let fixtures = try Fixtures()
        let path = try fixtures.python("bz.zip", """
            with zipfile.ZipFile(out, 'w') as z:
                z.writestr('old.txt', b'old-one.com\\n', compress_type=zipfile.ZIP_BZIP2)
                z.writestr('new.txt', b'new-one.com\\n', compress_type=zipfile.ZIP_DEFLATED)
            """)
        #expect(readInputs([path]) == [
            Read(name: "\(path):old.txt", domains: [], error: "\(path):old.txt is compressed with method 12, bzip2; only deflate and stored members can be read: unzip it first, or zip it again with deflate"),
            Read(name: "\(path):new.txt", domains: ["new-one.com"]),
        ])
    }

    @Test func severalPathsMixPlainGzipAndZip() throws {
        let fixtures = try Fixtures()
        let plain = try fixtures.write(Array("plain.com\n".utf8), "plain.txt")
        let gz = try fixtures.gzip("g.gz", "gz.com\n")
        let zip = try fixtures.zip("z.zip", [["m.txt", "member.com\n", "deflate"]])
        let missing = fixtures.path("missing.gz")
        #expect(readInputs([plain, gz, missing, zip]) == [
            Read(name: plain, domains: ["plain.com"]),
            Read(name: gz, domains: ["gz.com"]),
            Read(name: missing, domains: [], error: "\(missing): no such file; check the path"),
            Read(name: "\(zip):m.txt", domains: ["member.com"]),
        ])
    }

    @Test func sourcesInflateIntoTheCallersBufferInSmallSteps() throws {
        // Tiny reads exercise every boundary: a header split across reads, inflate output cut at 7 bytes.
        let fixtures = try Fixtures()
        let text = names(2000).joined(separator: "\n") + "\n"
        let gz = PeekableSource(try FileSource(path: try fixtures.gzip("s.gz", text)))
        #expect(InputPacking(magic: try gz.peek(4)) == .gzip)
        #expect(try drain(GzipSource(gz, path: "s.gz", displayName: "s.gz"), step: 7) == Array(text.utf8))

        let zipPath = try fixtures.zip("s.zip", [["a", text, "deflate"], ["b", text, "stored"]])
        let archive = ZipArchive(SlowSource(try FileSource(path: zipPath), step: 5), path: zipPath, displayName: "s.zip")
        var members: [String] = []
        while let member = try archive.nextMember() {
            members.append(member.name)
            #expect(try drain(ZipMemberSource(archive), step: 7) == Array(text.utf8))
        }
        #expect(members == ["a", "b"])
    }
}

/// Hands out at most `step` bytes a read, to split headers and data at every offset.
private final class SlowSource: ByteSource {
    let upstream: any ByteSource
    let step: Int
    init(_ upstream: any ByteSource, step: Int) { self.upstream = upstream; self.step = step }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputFileError) -> Int {
        try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(step, buffer.count)]))
    }
}

private func drain(_ source: any ByteSource, step: Int) throws -> [UInt8] {
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: step)
    while true {
        let n = try chunk.withUnsafeMutableBytes { raw in try source.read(into: raw) }
        if n == 0 { return out }
        out += chunk[..<n]
    }
}

private func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
}
