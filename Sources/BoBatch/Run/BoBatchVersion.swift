import Foundation

/// The version sent in User-Agent headers and shown by `--version`.
public enum BoBatchVersion {
    public static let string = "0.1.0"
    /// DNSPod asks every client for `Program/Version (contact email)`; `BO_BATCH_CONTACT` sets the address.
    public static let contact: String = {
        let value = ProcessInfo.processInfo.environment["BO_BATCH_CONTACT"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return value.contains("@") && !value.contains(where: { $0 == "(" || $0 == ")" || $0.isNewline }) ? value : "bo-batch@users.noreply.github.com"
    }()
    public static var userAgent: String { "bo-batch/\(string) (\(contact))" }
}
