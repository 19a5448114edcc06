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

    @Test func sandboxTimeTakesDaysHoursAndMinutes() throws {
        #expect(try SandboxTimeOffset.parse("+2d") == 172_800)
        #expect(try SandboxTimeOffset.parse("+6h") == 21_600)
        #expect(try SandboxTimeOffset.parse("30m") == 1800)
        #expect(try SandboxTimeOffset.parse("+1.5d") == 129_600)
        for bad in ["", "+", "+2", "-2d", "+2w", "tomorrow"] {
            #expect(throws: (any Error).self, "\(bad)") { try SandboxTimeOffset.parse(bad) }
        }
    }

    @Test func aDomainListIsReadAsSubmitReadsIt() throws {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("fu-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: path, contents: Data("# unwanted\nExample.COM\nbücher.de\nnot a domain\n".utf8))
        #expect(try DomainListFile.names(path) == ["example.com", "xn--bcher-kva.de"])
    }
}
