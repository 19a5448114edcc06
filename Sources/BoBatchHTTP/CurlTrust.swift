import CCurl
import Foundation

/// Which certificates verify the servers bo-batch talks to, and how that choice stays cheap per connection.
///
/// Two sources, decided once per transport:
/// - `BO_BATCH_CA_FILE` (or ``useCAFile(_:)``, which `submit --sandbox` calls with the sandbox's own certificate):
///   a PEM file of CA certificates trusted *instead of* the system store, as curl's `--cacert` does. Behind a
///   corporate TLS-inspecting proxy, put the system bundle and the proxy's CA into one file and name that.
/// - Otherwise libcurl's built-in bundle (Debian: `/etc/ssl/certs/ca-certificates.crt`).
///
/// Why the file is always named explicitly and libcurl's CA *directory* is switched off: Debian builds libcurl
/// with both a bundle and a directory (`/etc/ssl/certs`), and libcurl 7.87+ caches the parsed certificate store
/// (`CURLOPT_CA_CACHE_TIMEOUT`, 24 h) only when no directory is set. With the directory on, every new
/// connection re-parses the 140-certificate bundle: ~27 ms of CPU each with OpenSSL 3, measured here against
/// ~0.7 ms with the cache. When every paid create opened a fresh connection, that was most of bo-batch's CPU.
/// The directory holds the same certificates as the bundle on Debian (update-ca-certificates writes both).
public enum CurlTrust {
    /// The environment variable naming a PEM file of CA certificates to trust instead of the system store.
    public static let caFileVariable = "BO_BATCH_CA_FILE"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var override: String?

    /// Makes every transport created from now on trust exactly `path` (nil: back to the environment).
    /// `submit --sandbox` uses it for the sandbox's throwaway certificate, without touching the environment.
    public static func useCAFile(_ path: String?) {
        lock.withLock { override = path }
    }

    /// The CA file a new transport uses: ``useCAFile(_:)``, else `BO_BATCH_CA_FILE`, else libcurl's own bundle.
    /// nil only when libcurl has no bundle file at all (then its built-in defaults apply unchanged).
    public static func caFileForNewTransport(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let chosen = lock.withLock({ override }) { return chosen }
        if let fromEnvironment = environment[caFileVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return systemBundle
    }

    /// libcurl's compiled-in CA bundle (CURLINFO_CAINFO), if that file exists.
    public static let systemBundle: String? = {
        _ = CurlGlobal.initialised
        guard let handle = curl_easy_init() else { return nil }
        defer { curl_easy_cleanup(handle) }
        var path: UnsafeMutablePointer<CChar>?
        guard bb_curl_getinfo_str(handle, CURLINFO_CAINFO, &path) == CURLE_OK, let path else { return nil }
        let bundle = String(cString: path)
        return FileManager.default.isReadableFile(atPath: bundle) ? bundle : nil
    }()

    /// Checks `BO_BATCH_CA_FILE` in `environment` before anything is sent: nil when unset or usable, else a
    /// message that names the variable, what is wrong and the fix.
    public static func problem(in environment: [String: String]) -> String? {
        guard let path = environment[caFileVariable], !path.isEmpty else { return nil }
        guard let reason = problem(withCAFile: path) else { return nil }
        return "\(caFileVariable)=\(path): \(reason) — set it to a PEM file of CA certificates (it replaces the "
            + "system store; behind a TLS-inspecting proxy, join \(systemBundle ?? "the system CA bundle") and the "
            + "proxy's CA certificate into one file), or unset it to use the system store"
    }

    /// Why `path` cannot serve as a CA file, or nil when it holds at least one PEM certificate.
    public static func problem(withCAFile path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "a directory, not a file" }
        guard let data = FileManager.default.contents(atPath: path) else { return "not readable" }
        guard String(decoding: data, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            return "no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
        }
        return nil
    }
}
