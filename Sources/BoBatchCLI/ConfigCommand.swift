import ArgumentParser
import BoBatch
import BoBatchHTTP
import Foundation

/// `bo-batch config check|path`: the config file as bo-batch reads it.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the config file and show the settings in force, with where each comes from.",
        discussion: """
            The config file (TOML) holds what the environment variables hold, plus
            defaults for some flags. Precedence: flags, then environment variables,
            then the file. It is --config PATH, else $XDG_CONFIG_HOME/bo-batch/config.toml,
            else ~/.config/bo-batch/config.toml; none at the default location is fine.
            A file that holds a secret inline must be readable by its owner only
            (chmod 600). See README, "Config file", for every key.
              bo-batch config check
              bo-batch config check --config /etc/bo-batch/config.toml
              bo-batch config path
            """,
        subcommands: [ConfigCheckCommand.self, ConfigPathCommand.self])

    /// A setting that cannot be used ends the command with 2, its message printed.
    static func orUsage<T>(_ step: () throws -> T) throws -> T {
        do {
            return try step()
        } catch let error as ConfigFileError {
            Terminal.error("bo-batch: \(error.message)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
    }
}

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Print the settings in force and where each comes from (env, file, default), secrets masked; exit 2 if any is unusable.",
        discussion: """
            Checks what submit would check before sending: every provider's settings
            (credentials complete, secret files private, endpoints, pacing), prices,
            BO_BATCH_CA_FILE, the timeout, and the file's filters and caps. Secret values
            are shown as ****, whatever their source. Exit 0 when all is usable, 2 when not.
            """)

    @OptionGroup var config: ConfigOption

    @Flag(help: "List every known setting, the unset ones with what applies instead.")
    var all = false

    func run() throws {
        let settings = try config.load()
        let env = settings.environment
        if let file = settings.file {
            print("config file: \(file.path) (\(settings.location.why))")
        } else {
            print("config file: none (\(settings.location.path) does not exist)")
        }
        var rows: [[String]] = [["setting", "value", "from"]]
        for setting in KnownSettings.all {
            let source = settings.source(of: setting)
            if source == .fallback, !all { continue }
            var value: String
            if source == .fallback {
                value = "(\(setting.fallback))"
            } else if setting.secret, settings.value(of: setting) != nil || source != .fallback {
                value = "****"
            } else {
                value = settings.value(of: setting) ?? settings.file?.values[setting.key]?.text ?? ""
                // The file's booleans as written there (they reach the readers as 1 and 0).
                if setting.type == .boolean, case .file = source { value = value == "1" ? "true" : "false" }
            }
            rows.append([setting.key, value, Self.describe(source)])
        }
        if rows.count == 1 { print("no setting is set (bo-batch config check --all lists them all)") } else { Self.printTable(rows) }

        var problems: [String] = []
        var configured: [ProviderID] = []
        for id in ProviderID.allCases {
            do {
                if try ProviderCatalog.make(id, env: env) != nil { configured.append(id) }
            } catch {
                problems.append(error.message)
            }
        }
        do { _ = try PriceList.fromEnvironment(env, providers: configured) } catch { problems.append(error.message) }
        do { _ = try ProviderCatalog.requestTimeoutCap(env) } catch { problems.append(error.message) }
        if let problem = CurlTrust.problem(in: env) { problems.append(problem) }
        do { _ = try settings.rememberDays() } catch { problems.append(error.message) }
        do {
            let filters = try settings.fileFilters()
            if !filters.isEmpty { _ = try DomainFilter(filters) }
        } catch let error as ConfigFileError {
            problems.append(error.message)
        } catch {
            problems.append("[filters]: \(error)")
        }
        let caps = settings.fileCaps()
        do { _ = try Caps.parse(maxDomains: caps.maxDomains, maxSpend: caps.maxSpend, mode: caps.mode) } catch { problems.append("[caps]: \(error.message)") }

        print("providers configured: \(configured.isEmpty ? "none" : configured.map(\.rawValue).joined(separator: ", "))")
        if !problems.isEmpty {
            for problem in problems { Terminal.error("bo-batch: \(problem)") }
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        print("ok: every setting is usable")
    }

    static func describe(_ source: EffectiveSettings.Source) -> String {
        switch source {
        case .environment(let name): "env \(name)"
        case .file(let path): "file \(path)"
        case .overridden(let path, let name): "env \(name) (over file \(path))"
        case .fallback: "default"
        }
    }

    static func printTable(_ rows: [[String]]) {
        let widths = (0..<rows[0].count - 1).map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            let padded = row.enumerated().map { $0.offset < widths.count ? $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) : $0.element }
            print(padded.joined(separator: "  "))
        }
    }
}

struct ConfigPathCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "path",
        abstract: "Print the config file's path (where bo-batch looks for it), and whether it exists.")

    @OptionGroup var config: ConfigOption

    func run() throws {
        let location = ConfigLocation.resolve(flag: config.path, environment: ProcessInfo.processInfo.environment)
        let exists = FileManager.default.fileExists(atPath: location.path)
        print("\(location.path)\t\(exists ? "exists" : "absent") (\(location.why))")
    }
}
