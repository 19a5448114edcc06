import Foundation
import TOMLKit

/// A value from the config file, already checked against its key's type.
public enum ConfigValue: Sendable, Equatable {
    case text(String)
    case list([String])

    /// As an environment variable would hold it (lists are only flag defaults, so this is for display).
    public var text: String {
        switch self {
        case .text(let t): t
        case .list(let l): l.joined(separator: ",")
        }
    }

    public var list: [String] {
        switch self {
        case .text(let t): [t]
        case .list(let l): l
        }
    }
}

/// A config file that cannot be used; `message` names the file, the line or key, and the fix. Exit 2.
public struct ConfigFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The TOML config file, read and checked: every key known (else an error with the nearest one), every value of
/// its key's type, and no secret inline in a file that group or others can read.
public struct ConfigFile: Sendable, Equatable {
    public let path: String
    /// By ``KnownSetting/key``.
    public let values: [String: ConfigValue]

    public init(path: String, values: [String: ConfigValue]) {
        self.path = path
        self.values = values
    }

    /// Reads and checks `path`, its permissions included.
    public static func load(path: String) throws(ConfigFileError) -> ConfigFile {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ConfigFileError("\(path): cannot read it (\(String(cString: strerror(errno))))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw ConfigFileError("\(path): not a regular file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigFileError("\(path): cannot read it") }
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigFileError("\(path): not UTF-8 text (TOML files are UTF-8)") }
        let file = try parse(text, path: path)
        // As NAME_FILE: a key in a file others can read is a key others have. Only inline secrets count: a
        // `*_file` path is not a secret (the file it names is checked itself, when it is read).
        let inline = KnownSettings.all.filter { $0.secret && file.values[$0.key] != nil }.map(\.key)
        if !inline.isEmpty, info.st_mode & 0o077 != 0 {
            throw ConfigFileError("\(path) holds a secret (\(inline.joined(separator: ", "))) and is readable by group or others; run: chmod 600 \(path)")
        }
        return file
    }

    /// Parses and checks TOML text (no permission check: that is ``load(path:)``'s).
    public static func parse(_ text: String, path: String) throws(ConfigFileError) -> ConfigFile {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            // toml++'s message says what it expected; it quotes at most a character of the text, never a value.
            throw ConfigFileError("\(path) line \(error.source.begin.line), column \(error.source.begin.column): not valid TOML: \(error.description)")
        } catch {
            throw ConfigFileError("\(path): not valid TOML: \(error)")
        }
        let locate = KeyLocator(text)
        func place(_ key: String) -> String {
            locate.line(of: key).map { "\(path) line \($0)" } ?? path
        }
        var values: [String: ConfigValue] = [:]
        for sectionName in table.keys {
            guard KnownSettings.sections.contains(sectionName) else {
                if table[sectionName]?.table == nil {
                    let hint = KnownSettings.nearest(to: sectionName).map { "; did you mean \($0) (under [\($0.split(separator: ".")[0])])?" } ?? "; every setting belongs to a section such as [defaults] or [dynadot]"
                    throw ConfigFileError("\(place(sectionName)): unknown key '\(sectionName)'\(hint)")
                }
                let hint = KnownSettings.nearestSection(to: sectionName).map { "; did you mean [\($0)]?" } ?? "; known sections: \(KnownSettings.sections.map { "[\($0)]" }.joined(separator: ", "))"
                throw ConfigFileError("\(place(sectionName)): unknown section [\(sectionName)]\(hint)")
            }
            guard let section = table[sectionName]?.table else {
                throw ConfigFileError("\(place(sectionName)): '\(sectionName)' must be a section ([\(sectionName)] on a line of its own, its keys below)")
            }
            for name in section.keys {
                let key = "\(sectionName).\(name)"
                guard let setting = KnownSettings.byKey[key] else {
                    var hint = KnownSettings.nearest(to: key).map { "; did you mean \($0)?" } ?? ""
                    if section[name]?.table != nil, ProviderID(rawValue: sectionName) != nil {
                        hint += " (one account per provider: bo-batch's never-pay-twice record is kept per provider, so a second account of the same provider is not supported)"
                    } else if hint.isEmpty {
                        hint = "; [\(sectionName)] knows: \(KnownSettings.all.filter { $0.section == sectionName }.map(\.name).joined(separator: ", "))"
                    }
                    throw ConfigFileError("\(place(key)): unknown key \(key)\(hint)")
                }
                guard let raw = section[name], let value = convert(raw, to: setting.type) else {
                    let got = section[name].map { describe($0.type) } ?? "nothing"
                    throw ConfigFileError("\(place(key)): \(key) must be \(setting.type.description) (\(name) = \(setting.type.example)), not \(got)")
                }
                values[key] = isPath(setting) ? expandingHome(value) : value
            }
        }
        // A secret and its file form at once: which one counts would be a guess.
        for setting in KnownSettings.all where KnownSettings.byKey[setting.key + "_file"] != nil {
            if values[setting.key] != nil, values[setting.key + "_file"] != nil {
                throw ConfigFileError("\(path): \(setting.key) and \(setting.key)_file are both set; keep one")
            }
        }
        return ConfigFile(path: path, values: values)
    }

    /// Keys that hold paths: a leading `~/` there is the home directory, as a shell would have made it of the
    /// variable (`DYNADOT_API_KEY_FILE=~/.dynadot-key`); nothing else is expanded.
    static func isPath(_ setting: KnownSetting) -> Bool {
        setting.name.hasSuffix("_file") || setting.key == "defaults.state" || setting.key == "defaults.results"
    }

    static func expandingHome(_ value: ConfigValue) -> ConfigValue {
        func expand(_ path: String) -> String { path.hasPrefix("~/") ? (path as NSString).expandingTildeInPath : path }
        switch value {
        case .text(let t): return .text(expand(t))
        case .list(let l): return .list(l.map(expand))
        }
    }

    static func describe(_ type: TOMLType) -> String {
        switch type {
        case .int: "an integer"
        case .double: "a number with a fraction"
        case .string: "a string"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        default: "a \(type)"
        }
    }

    /// The value as its key's type wants it, or nil when it is of another type.
    static func convert(_ value: any TOMLValueConvertible, to type: KnownSetting.ValueType) -> ConfigValue? {
        switch type {
        case .text:
            return value.type == .string ? value.string.map(ConfigValue.text) : nil
        case .integer:
            return value.type == .int ? value.int.map { .text(String($0)) } : nil
        case .number:
            if value.type == .int, let n = value.int { return .text(String(n)) }
            if value.type == .double, let d = value.double, d.isFinite { return .text(String(d)) }
            return nil
        case .boolean:
            return value.type == .bool ? value.bool.map { .text($0 ? "1" : "0") } : nil
        case .list:
            if value.type == .string, let s = value.string { return .list([s]) }
            if value.type == .int, let n = value.int { return .list([String(n)]) }
            guard value.type == .array, let array = value.array else { return nil }
            var items: [String] = []
            for element in array {
                if element.type == .string, let s = element.string {
                    items.append(s)
                } else if element.type == .int, let n = element.int {
                    items.append(String(n))
                } else {
                    return nil
                }
            }
            return .list(items)
        }
    }
}

/// Finds the line a key was written on. TOMLKit does not keep positions of keys, so this reads the text:
/// `[section]` headers and `name =` lines (bare or quoted names; dotted names are not followed). Best effort:
/// a key it cannot place is named by its path alone.
struct KeyLocator {
    let lines: [Substring]

    init(_ text: String) { lines = text.split(separator: "\n", omittingEmptySubsequences: false) }

    func line(of key: String) -> Int? {
        var header = ""
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                let inner = line.drop { $0 == "[" }.prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces)
                header = inner
                if header == key || header.hasPrefix(key + ".") { return index + 1 }
                continue
            }
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { continue }
            var name = line[..<equals].trimmingCharacters(in: .whitespaces)
            if name.count >= 2, name.first == "\"" || name.first == "'", name.last == name.first { name = String(name.dropFirst().dropLast()) }
            let path = header.isEmpty ? name : "\(header).\(name)"
            if path == key { return index + 1 }
        }
        return nil
    }
}
