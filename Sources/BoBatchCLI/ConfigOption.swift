import ArgumentParser
import BoBatch
import BoBatchHTTP
import Foundation

/// `--config PATH`, on every command that reads settings. ``load()`` gives the settings the command runs with:
/// ``EffectiveSettings/environment`` replaces `ProcessInfo.processInfo.environment` wherever a command read it.
struct ConfigOption: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("TOML config file. Default: $XDG_CONFIG_HOME/bo-batch/config.toml, else ~/.config/bo-batch/config.toml (if there is one). Flags and environment variables win over it.", valueName: "path"))
    var path: String?

    /// Reads the config file (none at the default location is fine); an unusable one ends the command with 2.
    /// The two settings read far from any command's environment, `BO_BATCH_CA_FILE` and `BO_BATCH_CONTACT`, are
    /// handed to their readers here when the file sets them.
    func load() throws -> EffectiveSettings {
        let settings: EffectiveSettings
        do {
            settings = try EffectiveSettings.load(configFlag: path, environment: ProcessInfo.processInfo.environment)
        } catch {
            Terminal.error("bo-batch: \(error.message)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let env = settings.environment
        if settings.file != nil { Self.loaded.withLock { $0 = settings } }
        if env != settings.realEnvironment {
            if let ca = env[CurlTrust.caFileVariable], !ca.isEmpty { CurlTrust.useCAFile(ca) }
            BoBatchVersion.useContact(env["BO_BATCH_CONTACT"])
        }
        return settings
    }

    /// The settings of this process once loaded with a file, so that an error naming a variable the file set
    /// also names the file's key (``EffectiveSettings/explain(_:)``): the readers only know variables.
    private static let loaded = LockedSettings()

    static func explained(_ message: String) -> String {
        loaded.withLock { $0 }.map { $0.explain(message) } ?? message
    }
}

/// One `EffectiveSettings` behind a lock (errors are printed from any task).
final class LockedSettings: @unchecked Sendable {
    private let lock = NSLock()
    private var value: EffectiveSettings?

    func withLock<T>(_ body: (inout EffectiveSettings?) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
