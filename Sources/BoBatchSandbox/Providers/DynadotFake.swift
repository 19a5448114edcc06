import Foundation
import Hummingbird

/// Dynadot api3 (seed 002): `GET /dynadot/api3.xml?key=KEY&command=...`, always HTTP 200, the XML decides.
///
/// Played behaviour (where the real API is undocumented, the choice is marked *chosen*):
/// - Wrong or missing key: `<Response><ResponseHeader><ResponseCode>-1</ResponseCode><Error>invalid key</Error>`.
/// - `add_backorder_request&domain=a.com,b.net` takes at most 100 names ("too many domains"). *Chosen*: the
///   names are processed in order; if all are acceptable all are added and the answer is success; otherwise the
///   acceptable names before the first bad one are added (partial effect) and the answer is `SuccessCode -1`
///   with the first problem only: "NAME is already on your backorder request list", "could not find backorder
///   fot this domain" (sic; not pending delete, see ``PendingDeleteRule``) or "invalid domain name".
/// - One request at a time per key (``ProviderFaults/concurrentRequestsPerKey``, default 1): every command but
///   `is_processing` holds the key's "processing" flag while it runs, injected latency and hangs included; a
///   request arriving meanwhile gets "another request is being processed" and `is_processing` answers "yes".
/// - `delete_backorder_request` (same list rules), `backorder_request_list` (`startDate`/`endDate`
///   `yyyy-mm-dd` filter the cutoff day when both parse; otherwise everything is listed).
/// - Faults: refuse = `system_busy`; `busyWindow` N = after a failed request the next N requests of the key
///   see the account busy (`is_processing` "yes", other commands "another request is being processed").
final class DynadotFake: FakeProvider {
    let name = "dynadot"
    static let maxDomainsPerRequest = 100

    private struct Entry {
        var domain: String
        var cutoffMs: Int64
    }

    private struct Account {
        var order: [String] = []
        var entries: [String: Entry] = [:]
        var processing = 0
        var busyRequests = 0
    }

    private let accounts = Locked([String: Account]())
    private let responseCounter = Locked(0)
    let pipeline: FaultPipeline

    init(pipeline: FaultPipeline) {
        self.pipeline = pipeline
    }

    func reset() {
        accounts.withLock { accounts in
            // Keep the processing counts of requests still running, so their release stays balanced.
            accounts = accounts.filter { $0.value.processing > 0 }.mapValues { Account(processing: $0.processing) }
        }
    }

    func register(on router: Router<SandboxRequestContext>) {
        router.get("dynadot/api3.xml") { request, context in
            try await self.handle(request, context)
        }
    }

    // MARK: Handling

    private func handle(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let query = FormFields(encoded: request.uri.query ?? "")
        let command = query.value(caseInsensitive: "command") ?? ""
        stats.request(name, command.isEmpty ? "(none)" : command)

        if let failure = injector.accountFailure(name) {
            return generalError(failure == .credentials ? "invalid key" : "ip address not in whitelist").response
        }
        guard let key = query.value(caseInsensitive: "key"),
              SandboxCredentials.accountSuffix(key, base: SandboxCredentials.dynadotKey) != nil
        else {
            return generalError("invalid key").response
        }
        if injector.overRateLimit(name, account: key) {
            return refuseAnswer(variant: 0, command: command).response
        }

        switch command {
        case "is_processing":
            let outcome = try await pipeline.run(self, kind: .lookup, command: command, account: key,
                                                 contentKey: command, context: context) {
                let busy = accounts.withLock { accounts -> Bool in
                    // Taken out of the map while it changes, so its storage is not copied on every request.
                    var account = accounts.removeValue(forKey: key) ?? Account()
                    defer { accounts[key] = account }
                    if account.busyRequests > 0 {
                        account.busyRequests -= 1
                        return true
                    }
                    return account.processing > 0
                }
                return isProcessingAnswer(busy)
            }
            return outcome.response

        case "add_backorder_request", "delete_backorder_request", "backorder_request_list":
            let limit = injector.faults(for: name).concurrentRequestsPerKey
            let acquired = accounts.withLock { accounts -> Bool in
                // Taken out of the map while it changes, so its storage is not copied on every request.
                var account = accounts.removeValue(forKey: key) ?? Account()
                defer { accounts[key] = account }
                if account.busyRequests > 0 {
                    account.busyRequests -= 1
                    return false
                }
                guard account.processing < limit else { return false }
                account.processing += 1
                return true
            }
            guard acquired else {
                stats.busyRejection(name)
                return commandError(command, "another request is being processed").response
            }
            defer { accounts.withLock { $0[key, default: Account()].processing -= 1 } }

            let domains = Self.domainList(query.value(caseInsensitive: "domain"))
            let kind: RequestKind = command == "add_backorder_request" ? .create : .lookup
            var failed = false
            let outcome = try await pipeline.run(self, kind: kind, command: command, account: key,
                                                 contentKey: domains.joined(separator: ","), context: context) {
                let (answer, ok) = process(command, key: key, domains: domains, query: query)
                failed = !ok
                return answer
            }
            if failed || outcome.fault != nil {
                let window = injector.faults(for: name).busyWindow
                if window > 0 {
                    stats.fault(name, .busyWindow)
                    accounts.withLock { $0[key, default: Account()].busyRequests = window }
                }
            }
            return outcome.response

        case "":
            return generalError("missing command").response
        default:
            return generalError("unsupported command: \(command)").response
        }
    }

    static func domainList(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { PendingDeleteRule.normalize(String($0)) }.filter { !$0.isEmpty }
    }

    private func process(_ command: String, key: String, domains: [String], query: FormFields) -> (Answer, Bool) {
        switch command {
        case "add_backorder_request": add(key: key, domains: domains)
        case "delete_backorder_request": delete(key: key, domains: domains)
        default: (list(key: key, query: query), true)
        }
    }

    private func add(key: String, domains: [String]) -> (Answer, Bool) {
        let command = "add_backorder_request"
        if domains.isEmpty { return (commandError(command, "missing domain"), false) }
        if domains.count > Self.maxDomainsPerRequest { return (commandError(command, "too many domains"), false) }
        let now = Date()
        let problem = accounts.withLock { accounts -> String? in
            // Taken out of the map while it changes, so its storage is not copied on every request.
            var account = accounts.removeValue(forKey: key) ?? Account()
            defer { accounts[key] = account }
            for domain in domains {
                switch PendingDeleteRule.verdict(for: domain) {
                case .invalidName: return "invalid domain name"
                case .registered, .unsupportedTLD: return "could not find backorder fot this domain"
                case .pendingDelete: break
                }
                if account.entries[domain] != nil { return "\(domain) is already on your backorder request list" }
                let cutoff = Int64(PendingDeleteRule.dropTime(for: domain, now: now).timeIntervalSince1970 * 1000)
                account.entries[domain] = Entry(domain: domain, cutoffMs: cutoff)
                account.order.append(domain)
                stats.create(name, domain)
            }
            return nil
        }
        if let problem { return (commandError(command, problem), false) }
        return (commandSuccess(command), true)
    }

    private func delete(key: String, domains: [String]) -> (Answer, Bool) {
        let command = "delete_backorder_request"
        if domains.isEmpty { return (commandError(command, "missing domain"), false) }
        if domains.count > Self.maxDomainsPerRequest { return (commandError(command, "too many domains"), false) }
        let problem = accounts.withLock { accounts -> String? in
            // Taken out of the map while it changes, so its storage is not copied on every request.
            var account = accounts.removeValue(forKey: key) ?? Account()
            defer { accounts[key] = account }
            for domain in domains {
                guard account.entries.removeValue(forKey: domain) != nil else {
                    return "\(domain) is not on your backorder request list"
                }
                account.order.removeAll { $0 == domain }
            }
            return nil
        }
        if let problem { return (commandError(command, problem), false) }
        return (commandSuccess(command), true)
    }

    private func list(key: String, query: FormFields) -> Answer {
        var entries = accounts.withLock { accounts in
            let account = accounts[key, default: Account()]
            return account.order.compactMap { account.entries[$0] }
        }
        if let start = query.value(caseInsensitive: "startDate").flatMap(SandboxDates.parseDate),
           let end = query.value(caseInsensitive: "endDate").flatMap(SandboxDates.parseDate) {
            let low = Int64(start.timeIntervalSince1970 * 1000)
            let high = Int64((end.timeIntervalSince1970 + 86_400) * 1000)
            entries = entries.filter { $0.cutoffMs >= low && $0.cutoffMs < high }
        }
        let filler = injector.faults(for: name).hugeList
        let drift = driftThisAnswer()
        var xml = XMLWriter(declaration: true, indented: false, reservingCapacity: 200 + (entries.count + filler) * 180)
        xml.element("BackorderRequestListResponse") { xml in
            xml.element("BackorderRequestListHeader") { xml in
                xml.leaf(drift ? "ResponseCode" : "SuccessCode", "0")
                xml.leaf("Status", "success")
            }
            xml.element("BackorderRequestListContent") { xml in
                xml.element("BackorderRequestList") { xml in
                    func entry(_ domain: String, _ cutoff: Int64) {
                        xml.element("BackorderRequest") { xml in
                            xml.leaf(drift ? "Domain" : "DomainName", domain)
                            xml.leaf("CutoffTime", String(cutoff))
                            xml.leaf("BackorderRequestStatus", "Active")
                        }
                    }
                    for item in entries { entry(item.domain, item.cutoffMs) }
                    let fillerCutoff = (entries.first?.cutoffMs ?? 1_403_914_140_000)
                    for index in 0..<filler {
                        entry("sandbox-filler-" + String(index + 1).leftPadded(to: 6) + ".com", fillerCutoff)
                    }
                }
            }
        }
        return .xml(xml.text)
    }

    // MARK: Answers

    private func driftThisAnswer() -> Bool {
        let probability = injector.faults(for: name).fieldDrift
        guard probability > 0 else { return false }
        let counter = responseCounter.withLock { value -> Int in
            value += 1
            return value
        }
        let drift = injector.draw(name, "fieldDrift", String(counter)) < probability
        if drift { stats.fault(name, .fieldDrift) }
        return drift
    }

    private static func envelope(_ command: String) -> (root: String, header: String) {
        switch command {
        case "add_backorder_request": ("AddBackorderRequestResponse", "AddBackorderRequestHeader")
        case "delete_backorder_request": ("DeleteBackorderRequestResponse", "DeleteBackorderRequestHeader")
        case "backorder_request_list": ("BackorderRequestListResponse", "BackorderRequestListHeader")
        default: ("Response", "ResponseHeader")
        }
    }

    private func commandSuccess(_ command: String) -> Answer {
        let (root, header) = Self.envelope(command)
        let drift = driftThisAnswer()
        var xml = XMLWriter(indented: false)
        xml.element(root) { xml in
            xml.element(header) { xml in
                xml.leaf(drift ? "ResponseCode" : "SuccessCode", "0")
                xml.leaf("Status", "success")
            }
        }
        return .xml(xml.text)
    }

    private func commandError(_ command: String, _ message: String) -> Answer {
        let (root, header) = Self.envelope(command)
        guard root != "Response" else { return generalError(message) }
        let drift = driftThisAnswer()
        var xml = XMLWriter(indented: false)
        xml.element(root) { xml in
            xml.element(header) { xml in
                xml.leaf(drift ? "ResponseCode" : "SuccessCode", "-1")
                xml.leaf("Status", "error")
                xml.leaf("Error", message)
            }
        }
        return .xml(xml.text)
    }

    /// The command-independent error form.
    private func generalError(_ message: String) -> Answer {
        var xml = XMLWriter(indented: false)
        xml.element("Response") { xml in
            xml.element("ResponseHeader") { xml in
                xml.leaf("ResponseCode", "-1")
                xml.leaf("Error", message)
            }
        }
        return .xml(xml.text)
    }

    private func isProcessingAnswer(_ busy: Bool) -> Answer {
        var xml = XMLWriter(indented: false)
        xml.element("Response") { xml in
            xml.element("ResponseHeader") { xml in
                xml.leaf("ResponseCode", "0")
                xml.leaf("ResponseMsg", busy ? "yes" : "no")
            }
        }
        return .xml(xml.text)
    }

    func refuseAnswer(variant: UInt64, command: String) -> Answer {
        variant % 2 == 0 ? commandError(command, "system_busy") : generalError("system_busy")
    }

    func hostileResponse(variant: UInt64, bytes: Int, normal: Answer) -> Response {
        let root = Self.rootName(of: normal.body) ?? "Response"
        switch variant % 3 {
        case 0:
            var doctype = "<?xml version=\"1.0\"?>\n<!DOCTYPE \(root) [\n  <!ENTITY lol \"lol\">\n"
            for level in 1...9 {
                let previous = level == 1 ? "lol" : "lol\(level - 1)"
                doctype += "  <!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">\n"
            }
            doctype += "]>\n"
            let body = doctype + normal.body.replacingOccurrences(of: "<Status>success</Status>", with: "<Status>&lol9;</Status>")
            return Answer.xml(body).response
        case 1:
            let doctype = "<?xml version=\"1.0\"?>\n<!DOCTYPE \(root) [\n  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n  <!ENTITY net SYSTEM \"http://127.0.0.1:9/sandbox-xxe\">\n]>\n"
            let body = doctype + normal.body.replacingOccurrences(of: "<Status>", with: "<Status>&xxe;&net;")
            return Answer.xml(body).response
        default:
            return Self.paddedResponse(bytes: bytes, normal: normal)
        }
    }

    private static func rootName(of xml: String) -> String? {
        var rest = Substring(xml)
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            if rest.first == "?" || rest.first == "!" { continue }
            return String(rest.prefix { $0 != ">" && $0 != " " && $0 != "/" })
        }
        return nil
    }
}
