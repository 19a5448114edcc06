import Foundation

/// Where the config file is looked for: `--config PATH`, else `$XDG_CONFIG_HOME/bo-batch/config.toml`, else
/// `~/.config/bo-batch/config.toml` (XDG: a set `XDG_CONFIG_HOME` replaces `~/.config`, it is not tried after it).
public struct ConfigLocation: Sendable, Equatable {
    public enum Origin: Sendable, Equatable { case flag, xdgConfigHome, home }

    public let path: String
    public let origin: Origin

    public static func resolve(flag: String?, environment: [String: String]) -> ConfigLocation {
        if let flag, !flag.isEmpty { return ConfigLocation(path: flag, origin: .flag) }
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return ConfigLocation(path: (xdg as NSString).appendingPathComponent("bo-batch/config.toml"), origin: .xdgConfigHome)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return ConfigLocation(path: (home as NSString).appendingPathComponent(".config/bo-batch/config.toml"), origin: .home)
    }

    public var why: String {
        switch origin {
        case .flag: "--config"
        case .xdgConfigHome: "$XDG_CONFIG_HOME"
        case .home: "default location"
        }
    }
}

/// The settings a command runs with: the real environment over the config file.
///
/// The file's settings become the environment variables they stand for (``KnownSetting/variable``), added only
/// where the environment does not set that variable (an empty one counts as unset, as every reader takes it), so
/// precedence is flags > environment > file and every existing reader works on ``environment`` unchanged.
/// Settings with no variable (`[defaults] results`, `remember_days`, `[filters]`, `[caps]`) are only flags'
/// defaults, read through the accessors here.
public struct EffectiveSettings: Sendable {
    public let location: ConfigLocation
    /// nil when no file is read (none at the default location).
    public let file: ConfigFile?
    public let realEnvironment: [String: String]
    /// The environment every reader takes: real variables, plus the file's where the real ones are unset.
    public let environment: [String: String]

    public init(location: ConfigLocation, file: ConfigFile?, realEnvironment: [String: String]) {
        self.location = location
        self.file = file
        self.realEnvironment = realEnvironment
        self.environment = Self.layer(realEnvironment, under: file)
    }

    /// Finds and reads the file. A missing file at the default location is no file; a missing `--config PATH`
    /// is an error naming it.
    public static func load(configFlag: String?, environment: [String: String]) throws(ConfigFileError) -> EffectiveSettings {
        let location = ConfigLocation.resolve(flag: configFlag, environment: environment)
        var file: ConfigFile?
        if location.origin == .flag || FileManager.default.fileExists(atPath: location.path) {
            if location.origin == .flag, !FileManager.default.fileExists(atPath: location.path) {
                throw ConfigFileError("--config \(location.path): no such file")
            }
            file = try ConfigFile.load(path: location.path)
        }
        return EffectiveSettings(location: location, file: file, realEnvironment: environment)
    }

    static func isSet(_ name: String, in env: [String: String]) -> Bool {
        !(env[name]?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true)
    }

    /// `env` with the file's variables added where `env` sets neither the variable nor its secret/`_FILE` twin
    /// (else `DYNADOT_API_KEY_FILE` in the environment would lose to `api_key` in the file, which a reader
    /// prefers to the file form).
    public static func layer(_ env: [String: String], under file: ConfigFile?) -> [String: String] {
        guard let file else { return env }
        var merged = env
        for setting in KnownSettings.all {
            guard let variable = setting.variable, let value = file.values[setting.key] else { continue }
            if KnownSettings.group(of: variable).contains(where: { isSet($0, in: env) }) { continue }
            merged[variable] = value.text
        }
        return merged
    }

    /// Where a setting's value comes from, for `config check`.
    public enum Source: Sendable, Equatable {
        case environment(String)
        case file(String)
        /// Set in the file but hidden by this environment variable (the twin of a secret, or the variable itself).
        case overridden(file: String, by: String)
        case fallback
    }

    public func source(of setting: KnownSetting) -> Source {
        if let variable = setting.variable {
            if Self.isSet(variable, in: realEnvironment) { return .environment(variable) }
            if let file, file.values[setting.key] != nil {
                if let twin = KnownSettings.group(of: variable).first(where: { Self.isSet($0, in: realEnvironment) }) {
                    return .overridden(file: file.path, by: twin)
                }
                return .file(file.path)
            }
            return .fallback
        }
        if let file, file.values[setting.key] != nil { return .file(file.path) }
        return .fallback
    }

    /// The value in force (nil when unset), as text; never shown for a secret.
    public func value(of setting: KnownSetting) -> String? {
        if let variable = setting.variable {
            return Self.isSet(variable, in: environment) ? environment[variable] : nil
        }
        return file?.values[setting.key]?.text
    }

    /// `message` (a reader's error, which names variables) with the file's key added for each variable in it
    /// that came from the file, so an error is found where it was written.
    public func explain(_ message: String) -> String {
        guard let file else { return message }
        let fromFile = KnownSettings.all.filter { setting in
            guard let variable = setting.variable, source(of: setting) == .file(file.path) else { return false }
            return message.range(of: "\\b\(variable)\\b", options: .regularExpression) != nil
        }
        guard !fromFile.isEmpty else { return message }
        return message + " (set in \(file.path) as \(fromFile.map(\.key).joined(separator: ", ")))"
    }

    /// The file's value for a flag-only setting.
    public func fileValue(_ key: String) -> ConfigValue? {
        precondition(KnownSettings.byKey[key] != nil, "unknown setting \(key)")
        return file?.values[key]
    }

    /// Where a file key was set, for messages: `PATH: key`.
    func place(_ key: String) -> String { "\(file?.path ?? "config file"): \(key)" }

    /// A run's results directory when `--out` is not given: `RESULTS/RUN` (`RESULTS/sandbox/RUN` with
    /// `--sandbox`), RESULTS being `[defaults] results`, else `results`.
    public func resultsDirectory(run: String, sandbox: Bool) -> String {
        let root = fileValue("defaults.results")?.text ?? "results"
        return sandbox ? "\(root)/sandbox/\(run)" : "\(root)/\(run)"
    }

    /// `[defaults] remember_days`, checked as `--remember-days` is.
    public func rememberDays() throws(ConfigFileError) -> Int? {
        guard let raw = fileValue("defaults.remember_days")?.text else { return nil }
        guard let days = Int(raw), (0...3650).contains(days) else {
            throw ConfigFileError("\(place("defaults.remember_days")) must be between 0 and 3650")
        }
        return days
    }

    /// `[filters]`: each one is the default of its flag (``FilterSettings``'s fields, one for one).
    public func fileFilters() throws(ConfigFileError) -> FilterSettings {
        var s = FilterSettings()
        func list(_ name: String) -> [String] { fileValue("filters.\(name)")?.list ?? [] }
        func text(_ name: String) -> String? { fileValue("filters.\(name)")?.text }
        func flag(_ name: String) -> Bool { text(name) == "1" }
        func int(_ name: String) throws(ConfigFileError) -> Int? {
            guard let raw = text(name) else { return nil }
            guard let n = Int(raw), n >= 1 else { throw ConfigFileError("\(place("filters.\(name)")) must be a whole number from 1") }
            return n
        }
        s.tlds = list("tld")
        s.excludeTLDs = list("exclude_tld")
        s.minLength = try int("min_length")
        s.maxLength = try int("max_length")
        s.noHyphens = flag("no_hyphens")
        s.noDigits = flag("no_digits")
        s.noIDN = flag("no_idn")
        s.match = list("match")
        s.exclude = list("exclude")
        s.excludeFiles = list("exclude_file")
        s.dropAfter = text("drop_after")
        s.dropBefore = text("drop_before")
        return s
    }

    /// `[caps]`, in the flags' own words, each used when its flag is not given.
    public func fileCaps() -> (maxDomains: [String], maxSpend: [String], mode: String?) {
        (fileValue("caps.max_domains")?.list ?? [], fileValue("caps.max_spend")?.list ?? [], fileValue("caps.mode")?.text)
    }
}
