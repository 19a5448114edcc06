import Foundation

/// The version sent in User-Agent headers and shown by `--version`.
public enum BoBatchVersion {
    public static let string = "0.1.0"
    /// DNSPod asks every client for `Program/Version (contact email)`; `BO_BATCH_CONTACT` sets the address
    /// (or the config file's `http.contact`, through ``useContact(_:)``).
    public static var contact: String { contactLock.withLock { contactSetting } }

    /// Makes `value` the contact, when it is a usable address (else the default stays).
    public static func useContact(_ value: String?) {
        let checked = checkedContact(value)
        contactLock.withLock { contactSetting = checked }
    }

    static func checkedContact(_ raw: String?) -> String {
        let value = raw?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return value.contains("@") && !value.contains(where: { $0 == "(" || $0 == ")" || $0.isNewline }) ? value : "bo-batch@users.noreply.github.com"
    }

    private static let contactLock = NSLock()
    nonisolated(unsafe) private static var contactSetting = checkedContact(ProcessInfo.processInfo.environment["BO_BATCH_CONTACT"])
    public static var userAgent: String { "bo-batch/\(string) (\(contact))" }
}
