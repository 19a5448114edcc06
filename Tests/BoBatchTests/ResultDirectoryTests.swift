@testable import BoBatch
import Foundation
import Glibc
import Testing

/// The results directory's writes (``ResultDirectory``), as a flush makes them.
@Suite struct ResultDirectoryTests {
    /// A file under a new name is written nameless and named once whole; a name already taken (a file, left by an
    /// earlier ledger) is replaced through a temporary name; one a directory squats is reported. Nothing hidden stays.
    @Test func aNewNameIsNamedWholeATakenOneReplacedAndASquattedOneReported() throws {
        let dir = TestPaths.temporaryDirectory("result-directory")
        let target = ResultDirectory(path: dir)
        defer { target.close() }
        try target.write(Array("one".utf8), to: "a.com.json")
        try "old, longer than the new".write(toFile: "\(dir)/b.com.json", atomically: false, encoding: .utf8)
        try target.write(Array("two".utf8), to: "b.com.json")
        try FileManager.default.createDirectory(atPath: "\(dir)/c.com.json", withIntermediateDirectories: false)
        #expect(throws: ResultFileFailure.self) { try target.write(Array("three".utf8), to: "c.com.json") }
        try target.write(Array("four".utf8), to: "d.com.json")
        #expect(try String(contentsOfFile: "\(dir)/a.com.json", encoding: .utf8) == "one")
        #expect(try String(contentsOfFile: "\(dir)/b.com.json", encoding: .utf8) == "two")
        #expect(try String(contentsOfFile: "\(dir)/d.com.json", encoding: .utf8) == "four")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["a.com.json", "b.com.json", "c.com.json", "d.com.json"])
        // Mode 0644 less the umask, as a file made by open(2) with O_CREAT.
        let mask = umask(0)
        umask(mask)
        let mode = (try FileManager.default.attributesOfItem(atPath: "\(dir)/a.com.json")[.posixPermissions] as? Int) ?? -1
        #expect(mode == 0o644 & ~Int(mask))
    }
}
