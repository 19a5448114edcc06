import BoBatchSandbox
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Starts a sandbox on a free loopback port, runs `body`, and always shuts the sandbox down.
@discardableResult
func withSandbox<T: Sendable>(
    faults: FaultPlan = .none,
    seed: UInt64 = 1,
    timeout: TimeInterval = 60,
    _ body: (SandboxServer, SandboxHTTPClient) async throws -> T
) async throws -> T {
    let server = try await SandboxServer.start(SandboxOptions(faults: faults, seed: seed, logLevel: .critical))
    let client = SandboxHTTPClient(timeout: timeout)
    do {
        let result = try await body(server, client)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Dynadot request URLs.
struct SandboxDynadotURL {
    let server: SandboxServer
    var key = SandboxCredentials.dynadotKey

    func command(_ command: String, _ extra: [(String, String)] = []) -> String {
        let query = [("key", key), ("command", command)] + extra
        return server.endpoint(for: "dynadot") + "?" + SandboxHTTPClient.formEncode(query)
    }

    func add(_ domains: [String]) -> String {
        command("add_backorder_request", [("domain", domains.joined(separator: ","))])
    }
}

/// Gname form fields, signed with the sandbox's signer (itself pinned by the seed's test vector).
func sandboxGnameFields(_ fields: [(String, String)], appID: String = SandboxCredentials.gnameAppID,
                 appKey: String = SandboxCredentials.gnameAppKey, time: Date = Date()) -> [(String, String)] {
    let all = [("appid", appID), ("gntime", String(Int(time.timeIntervalSince1970)))] + fields
    return all + [("gntoken", GnameSignature.token(fields: all.map { (name: $0.0, value: $0.1) }, appKey: appKey))]
}

let sandboxYayHeaders = [
    "X-Auth-Reseller": SandboxCredentials.yayReseller,
    "X-Auth-User": SandboxCredentials.yayUser,
    "X-Auth-Password": SandboxCredentials.yayPassword,
]

let sandboxDNSPodUserAgent = ["User-Agent": "bo-batch/0.1.0 (ops@example.com)"]

/// 1API fields with the sandbox's login.
func sandboxOneAPIFields(_ fields: [(String, String)]) -> [(String, String)] {
    [("s_entity", SandboxCredentials.oneapiEntity), ("s_login", SandboxCredentials.oneapiLogin),
     ("s_pw", SandboxCredentials.oneapiPassword)] + fields
}

/// A tolerant ISPAPI reader for assertions: keys lowercased, spaces around `=` and CR ignored.
struct SandboxISPAPIProbe {
    var values: [String: String] = [:]
    var sawHeader = false
    var sawEOF = false

    init(_ text: String) {
        for raw in text.split(whereSeparator: \.isNewline) { // "\r\n" is one Character in Swift
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line == "[RESPONSE]" { sawHeader = true; continue }
            if line == "EOF" { sawEOF = true; continue }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            values[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
    }

    var code: Int? { values["code"].flatMap { Int($0) } }
    var description: String? { values["description"] }
    func property(_ name: String, _ index: Int = 0) -> String? { values["property[\(name.lowercased())][\(index)]"] }
    func column(_ name: String) -> [String] {
        var out: [String] = []
        while let value = property(name, out.count) { out.append(value) }
        return out
    }
}
