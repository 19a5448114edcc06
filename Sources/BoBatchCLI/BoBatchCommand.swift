import ArgumentParser
import BoBatch
import Foundation
import Glibc

/// The root command. The only module that prints or exits.
public struct BoBatchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bo-batch",
        abstract: "Place domain backorders in bulk at several registrars, safely rerunnable from cron.",
        discussion: """
            Reads lists of soon-to-drop domains (one per line, or CSV), normalizes
            and dedupes them, and places a backorder for each at every selected
            provider: Dynadot, Gname, Yay.com, 1API/HEXONET, DNSPod. Everything is
            recorded in a ledger, so rerunning the same command after a crash
            finishes the job without paying for anything twice.

            Try it with no keys against the built-in sandbox:
              bo-batch submit --sandbox samples/drops-2025-10-27.txt

            EXIT CODES
            \(ExitCodeHelp.table)
            """,
        version: BoBatchVersion.string,
        subcommands: [SubmitCommand.self, RefreshCommand.self, CancelCommand.self, ReclaimCommand.self, StatusCommand.self, ReportCommand.self, SandboxCommand.self, ProvidersCommand.self, ConfigCommand.self],
        defaultSubcommand: nil
    )

    public init() {}

    /// Parses, runs and exits with bo-batch's own exit codes (argument errors are 2, not sysexits' 64).
    public static func main(arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Glibc.exit(0)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                Glibc.exit(0)
            }
            if !message.isEmpty { Terminal.error(message) }
            Glibc.exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

/// stderr output, the only place bo-batch writes diagnostics.
enum Terminal {
    static let isInteractive = isatty(STDERR_FILENO) == 1

    static func error(_ text: String) {
        let text = text.hasPrefix("bo-batch: ") ? ConfigOption.explained(text) : text
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Rewrites the current terminal line (progress).
    static func overwrite(_ text: String) {
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    /// Replaces the `previous` lines drawn last (the cursor sits below them) with `lines`, in one write.
    static func redraw(_ lines: [String], replacing previous: Int) {
        var out = previous > 0 ? "\u{1B}[\(previous)F" : "\r"
        for line in lines { out += "\u{1B}[2K" + line + "\n" }
        // Fewer lines than before: clear what is left of the old block, then come back up.
        let extra = max(0, previous - lines.count)
        for _ in 0..<extra { out += "\u{1B}[2K\n" }
        if extra > 0 { out += "\u{1B}[\(extra)F" }
        FileHandle.standardError.write(Data(out.utf8))
    }

    /// The terminal's width (stderr's), 80 when it cannot be told.
    static var columns: Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}
