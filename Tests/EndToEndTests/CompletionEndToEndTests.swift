import Foundation
import Testing

/// What `bin/install` installs beside the binary, generated from the argument parser: the shell completions
/// (run here as a shell would) and the help dump the man page is made from. bin/install itself builds in release
/// mode and runs the generate-manual plugin (minutes), so it is not run here; README's "Install" says how it
/// was checked.
@Suite struct CompletionEndToEndTests {
    static let commands = ["submit", "refresh", "cancel", "reclaim", "status", "report", "sandbox", "providers", "config"]

    func script(_ shell: String) async throws -> String {
        let dir = Scratch.directory()
        let result = try await BinaryRunner.run(
            ["--generate-completion-script", shell], environment: BinaryRunner.baseEnvironment(state: "\(dir)/state"), directory: dir)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        return result.stdout
    }

    /// Sources the bash completion and asks it what completes `words` (the last one being typed).
    func bashCompletions(_ script: String, _ words: [String]) throws -> [String] {
        let dir = Scratch.directory()
        Scratch.write(script, to: "\(dir)/completion.bash")
        let line = words.joined(separator: " ")
        let quoted = words.map { "'\($0)'" }.joined(separator: " ")
        let program = """
            source completion.bash
            COMP_WORDS=(\(quoted)); COMP_CWORD=\(words.count - 1); COMP_LINE='\(line)'; COMP_POINT=\(line.utf8.count)
            _bo-batch bo-batch '\(words.last!)' '\(words[words.count - 2])'
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", program]
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func bashCompletesCommandsAndOptions() async throws {
        let bash = try await script("bash")
        #expect(try bashCompletions(bash, ["bo-batch", "su"]) == ["submit"])
        #expect(try bashCompletions(bash, ["bo-batch", "st"]) == ["status"])
        #expect(try bashCompletions(bash, ["bo-batch", "conf"]) == ["config"])
        #expect(try bashCompletions(bash, ["bo-batch", "config", "ch"]) == ["check"])
        #expect(try bashCompletions(bash, ["bo-batch", "submit", "--conf"]).contains("--config"))
        #expect(try bashCompletions(bash, ["bo-batch", "submit", "--require-a"]).contains("--require-all-inputs"))
        #expect(try bashCompletions(bash, ["bo-batch", "submit", "--sandbox-f"]).contains("--sandbox-faults"))
    }

    @Test(arguments: ["zsh", "fish"]) func otherShellsGetAScriptNamingEveryCommand(shell: String) async throws {
        let text = try await script(shell)
        for command in Self.commands { #expect(text.contains(command), "\(shell) script lacks \(command)") }
        #expect(text.contains("max-attempts"))
    }

    /// The man page's source: generate-manual reads this dump. Every command and its discussion must be in it.
    @Test func theHelpDumpTheManPageIsMadeFromHoldsEveryCommand() async throws {
        let dir = Scratch.directory()
        let result = try await BinaryRunner.run(
            ["--experimental-dump-help"], environment: BinaryRunner.baseEnvironment(state: "\(dir)/state"), directory: dir)
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let command = try #require(json["command"] as? [String: Any])
        let subcommands = (command["subcommands"] as? [[String: Any]] ?? []).compactMap { $0["commandName"] as? String }
        for name in Self.commands { #expect(subcommands.contains(name), "\(subcommands)") }
        #expect((command["discussion"] as? String)?.contains("EXIT CODES") == true)
    }
}
