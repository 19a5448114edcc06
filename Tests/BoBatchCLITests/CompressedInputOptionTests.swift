import ArgumentParser
@testable import BoBatchCLI
import Testing

@Suite struct CompressedInputOptionTests {
    @Test func memberIsParsedAndACompressedListNamesItsRunAsItsText() throws {
        let command = try BoBatchCommand.parseAsRoot(["submit", "--member", "pending_delete_domains.csv", "list.csv.zip"])
        let submit = try #require(command as? SubmitCommand)
        #expect(submit.member == "pending_delete_domains.csv")
        #expect(SubmitCommand.defaultRunName(["/data/drops-2025-10-27.txt.gz"]) == "drops-2025-10-27")
        #expect(SubmitCommand.defaultRunName(["pending.csv.zip"]) == "pending")
        #expect(SubmitCommand.defaultRunName(["drops.GZ"]) == "drops")
        #expect(SubmitCommand.defaultRunName(["drops.txt"]) == "drops")
    }
}
