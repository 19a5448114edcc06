import ArgumentParser
@testable import BoBatch
@testable import BoBatchCLI
import Foundation
import Testing

@Suite struct FollowUpCommandTests {
    @Test func refreshParsesARunOrNone() throws {
        let named = try #require(try BoBatchCommand.parseAsRoot(["refresh", "--provider", "dynadot", "--out", "/tmp/o", "drops"]) as? RefreshCommand)
        #expect(named.name == "drops" && named.provider == "dynadot" && named.out == "/tmp/o")
        let all = try #require(try BoBatchCommand.parseAsRoot(["refresh", "--quiet"]) as? RefreshCommand)
        #expect(all.name == nil)
        let sandbox = try #require(try BoBatchCommand.parseAsRoot(["refresh", "--sandbox", "--sandbox-time", "+2d", "drops"]) as? RefreshCommand)
        #expect(sandbox.sandboxTime == "+2d")
    }

    @Test func refreshRejectsWhatCannotWork() {
        for args in [["refresh", "--sandbox-time", "+2d", "drops"], ["refresh", "--sandbox", "--sandbox-time", "2 days", "drops"], ["refresh", "--out", "/tmp/o"]] {
            #expect(throws: (any Error).self, "\(args)") { try BoBatchCommand.parseAsRoot(args) }
        }
    }

    @Test func cancelParsesItsOptions() throws {
        let cancel = try #require(try BoBatchCommand.parseAsRoot(["cancel", "--provider", "yay", "--domains", "d.txt", "--yes", "--dry-run", "drops"]) as? CancelCommand)
        #expect(cancel.target == "drops" && cancel.domains == "d.txt" && cancel.yes && cancel.dryRun)
        #expect(throws: (any Error).self) { try BoBatchCommand.parseAsRoot(["cancel"]) }
    }

    /// The offsets are the sandbox's own (SandboxTimeOffset, tested with the sandbox); here: refresh checks them
    /// before anything starts, and only with --sandbox.
    @Test func sandboxTimeIsCheckedWhenParsed() throws {
        for good in ["+2d", "+6h", "+1d12h", "+30m"] {
            _ = try BoBatchCommand.parseAsRoot(["refresh", "drops", "--sandbox", "--sandbox-time", good])
        }
        for bad in ["+", "+2", "+2w", "tomorrow"] {
            #expect(throws: (any Error).self, "\(bad)") { try BoBatchCommand.parseAsRoot(["refresh", "drops", "--sandbox", "--sandbox-time", bad]) }
        }
        #expect(throws: (any Error).self) { try BoBatchCommand.parseAsRoot(["refresh", "drops", "--sandbox-time", "+2d"]) }
    }

    @Test func aDomainListIsReadAsSubmitReadsIt() throws {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("fu-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: path, contents: Data("# unwanted\nExample.COM\nbücher.de\nnot a domain\n".utf8))
        #expect(try DomainListFile.names(path) == ["example.com", "xn--bcher-kva.de"])
    }
}
