import Foundation

/// Reads a provider's variables, telling "not configured" (nil) from "half configured" (an error naming what is missing).
public struct EnvironmentReader: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// The trimmed value, or nil when unset or blank.
    public func value(_ name: String) -> String? {
        guard let raw = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
        return raw
    }

    /// A secret from `NAME`, or from the file named by `NAME_FILE` (first line; the file must not be readable
    /// by group or others, so a key never sits in a world-readable file).
    public func secret(_ name: String) throws(ConfigurationError) -> String? {
        if let direct = value(name) { return direct }
        guard let path = value("\(name)_FILE") else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ConfigurationError("\(name)_FILE=\(path): cannot read it (\(String(cString: strerror(errno))))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw ConfigurationError("\(name)_FILE=\(path) is readable by others; run: chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("\(name)_FILE=\(path): cannot read it")
        }
        let text = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)?
            .trimmingCharacters(in: .whitespaces) ?? ""
        guard !text.isEmpty else { throw ConfigurationError("\(name)_FILE=\(path) is empty") }
        return text
    }

    /// All of `names` set → their values in order; none set → nil; some set → an error naming the missing ones.
    public func credentials(_ names: [String], provider: String) throws(ConfigurationError) -> [String]? {
        var found: [String?] = []
        for name in names { found.append(try secret(name)) }
        if found.allSatisfy({ $0 == nil }) { return nil }
        let missing = zip(names, found).filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty else {
            throw ConfigurationError(
                "\(provider) is half configured: set \(missing.joined(separator: " and ")) too, or unset \(names.filter { !missing.contains($0) }.joined(separator: ", "))"
            )
        }
        return found.map { $0! }
    }

    /// An http(s) URL from `name`, or `fallback`.
    public func endpoint(_ name: String, default fallback: String) throws(ConfigurationError) -> String {
        guard let raw = value(name) else { return fallback }
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host != nil else {
            throw ConfigurationError("\(name)=\(raw) is not an http(s) URL")
        }
        return raw
    }
}
