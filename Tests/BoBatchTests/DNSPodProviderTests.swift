import BoBatchHTTP
import Foundation
import Testing

@testable import BoBatch

/// DNSPod's documented sample token: a `$` in it checks the form encoding.
private let token = "730060,e1a8a$f14dc5dcbafd83680b3d2a553c4d553d"
private let tokenPart = "e1a8a$f14dc5dcbafd83680b3d2a553c4d553d"

private func name(_ text: String) -> DomainName { try! DomainName(normalizing: text) }

private func status(_ code: String, _ message: String = "Action completed successful", extra: String = "") -> String {
    #"{"status":{"code":"\#(code)","message":"\#(message)","created_at":"2012-09-23 18:07:44"}\#(extra)}"#
}

/// Answers `Domain.Acquire` with `acquire` and everything else with `send`.
private func scripted(acquire: String = status("1", extra: #","emails":["support@namecheap.com"]"#), send: String = status("1"), sendStatus: Int = 200) -> ScriptedTransport {
    ScriptedTransport { request in
        if request.url.hasSuffix("/Domain.Acquire") { return HTTPResponse(status: 200, body: Array(acquire.utf8)) }
        return HTTPResponse(status: sendStatus, body: Array(send.utf8))
    }
}

private func failing(_ kind: TransportError.Kind, _ message: String = "connection reset") -> ScriptedTransport {
    ScriptedTransport { (_: HTTPRequest) throws(TransportError) -> HTTPResponse in
        throw TransportError(kind: kind, message: message, code: 7)
    }
}

private func config(email: String? = nil, auto: Bool = false, endpoint: String = DNSPodConfig.defaultEndpoint) -> DNSPodConfig {
    DNSPodConfig(loginToken: token, email: email, emailAuto: auto, endpoint: endpoint)
}

private func provider(_ transport: ScriptedTransport, _ config: DNSPodConfig = config(email: "owner@example.com")) -> DNSPodProvider {
    DNSPodProvider(config: config, transport: transport)
}

/// The provider as the catalog hands it to the lane: wrapped in `RedactingProvider`.
private func wrapped(_ transport: ScriptedTransport, _ config: DNSPodConfig = config(email: "owner@example.com")) -> RedactingProvider {
    RedactingProvider(provider(transport, config))
}

private func item(_ domain: String = "api4.com", email: String? = nil) -> BackorderItem {
    BackorderItem(domain: name(domain), attributes: DomainAttributes(email: email))
}

private func strings(_ result: SubmitResult) -> [String] {
    func of(_ verdict: Verdict) -> [String] {
        switch verdict {
        case .accepted(let r, let m), .already(let r, let m): [r ?? "", m]
        case .rejected(let m), .skipped(let m): [m]
        }
    }
    switch result {
    case .settled(let verdicts): return verdicts.values.flatMap(of)
    case .refused(let reason, _), .maybeProcessed(let reason): return [reason]
    case .batchFailed(let reason, let verdict): return [reason] + of(verdict)
    case .halt(let reason, let fix): return [reason, fix]
    }
}

private func leaks(_ texts: [String]) -> Bool {
    texts.contains { $0.contains(tokenPart) || $0.contains(percentEncodeQueryValue(tokenPart)) || $0.contains("f14dc5dcbafd") }
}

// MARK: - requests

@Suite struct DNSPodRequestTests {
    @Test func acquireSendIsAFormPostWithTheUserAgent() async throws {
        let transport = scripted()
        _ = await provider(transport, config(email: "support@namecheap.com")).submit([item("API4.com")])

        #expect(transport.requests.count == 1)
        let request = try #require(transport.requests.first)
        #expect(request.method == .post)
        #expect(request.url == "https://api.dnspod.com/Domain.Acquiresend")
        #expect(request.idempotent == false)
        #expect(request.secrets.contains(token))
        #expect(request.secrets.contains(tokenPart))
        #expect(request.headers.contains { $0.name == "User-Agent" && $0.value == BoBatchVersion.userAgent })
        #expect(BoBatchVersion.userAgent.hasPrefix("bo-batch/\(BoBatchVersion.string) ("))
        #expect(BoBatchVersion.userAgent.contains("@"), "DNSPod wants a contact email in the User-Agent")
        #expect(request.headers.contains { $0.name == "Content-Type" && $0.value == "application/x-www-form-urlencoded" })
        let body = String(decoding: try #require(request.body), as: UTF8.self)
        #expect(body == "login_token=730060%2Ce1a8a%24f14dc5dcbafd83680b3d2a553c4d553d&format=json&domain=api4.com&email=support%40namecheap.com")
        #expect(request.formFields == ["login_token": token, "format": "json", "domain": "api4.com", "email": "support@namecheap.com"])
    }

    @Test func autoEmailAsksDomainAcquireFirst() async throws {
        let transport = scripted(acquire: status("1", extra: #","emails":["not an address","first@whois.example","second@whois.example"]"#))
        let result = await provider(transport, config(auto: true, endpoint: "http://127.0.0.1:9/api/")).submit([item()])

        let requests = transport.requests
        #expect(requests.count == 2)
        #expect(requests[0].url == "http://127.0.0.1:9/api/Domain.Acquire")
        #expect(requests[0].idempotent)
        #expect(requests[0].formFields == ["login_token": token, "format": "json", "domain": "api4.com"])
        #expect(requests[1].url == "http://127.0.0.1:9/api/Domain.Acquiresend")
        #expect(requests[1].idempotent == false)
        #expect(requests[1].formFields["email"] == "first@whois.example", "the first plausible address")
        #expect(requests.allSatisfy { request in request.headers.contains { $0.name == "User-Agent" && $0.value == BoBatchVersion.userAgent } })
        #expect(requests.allSatisfy { $0.secrets.contains(token) })
        #expect(result == .settled([name("api4.com"): .accepted(reference: nil, message: "verification code mailed to f***@whois.example (the first address DNSPod offered)")]))
    }

    @Test func lookupIsUnsupportedAndSendsNothing() async {
        let transport = scripted()
        guard case .unsupported(let reason) = await provider(transport).lookup([item()]) else {
            Issue.record("expected unsupported")
            return
        }
        #expect(reason.hasPrefix("DNSPod's get-domain-back has no lookup: "))
        #expect(transport.requests.isEmpty)
    }

    @Test func oneDomainPerCall() async {
        let transport = scripted()
        let p = wrapped(transport)
        #expect(p.maxBatch == 1)
        guard case .halt(let reason, _) = await p.submit([item("a.com"), item("b.com")]) else {
            Issue.record("expected halt: two domains for one must never be sent")
            return
        }
        #expect(reason.contains("nothing was sent"))
        #expect(await p.submit([]) == .settled([:]))
        #expect(transport.requests.isEmpty)
    }

    @Test func endpointDescriptionCarriesNoSecret() {
        let leaky = DNSPodConfig(loginToken: token, endpoint: "https://730060:\(percentEncodeQueryValue(tokenPart))@api.dnspod.com/?login_token=\(tokenPart)")
        let text = DNSPodProvider(config: leaky, transport: scripted()).endpointDescription
        #expect(text == "https://api.dnspod.com/Domain.Acquiresend (get domain back)")
    }
}

// MARK: - email selection

@Suite struct DNSPodEmailTests {
    @Test func itemEmailThenConfiguredThenOfferedThenNone() {
        let both = config(email: "configured@example.com", auto: true)
        #expect(DNSPodEmailChoice.choose(for: item(email: " whois@example.com "), config: both) == .use("whois@example.com", from: .item))
        #expect(DNSPodEmailChoice.choose(for: item(email: "   "), config: both) == .use("configured@example.com", from: .configured))
        #expect(DNSPodEmailChoice.choose(for: item(), config: both) == .use("configured@example.com", from: .configured))
        #expect(DNSPodEmailChoice.choose(for: item(), config: config(auto: true)) == .askDNSPod)
        #expect(DNSPodEmailChoice.choose(for: item(), config: config()) == DNSPodEmailChoice.none)
        #expect(DNSPodEmailChoice.choose(for: item(email: "nobody"), config: both) == .invalid("nobody"))
    }

    @Test func theItemsEmailIsWhatIsSent() async {
        let transport = scripted()
        _ = await provider(transport, config(email: "configured@example.com", auto: true)).submit([item(email: "whois@example.com")])
        #expect(transport.requests.count == 1)
        #expect(transport.requests.first?.formFields["email"] == "whois@example.com")
    }

    @Test func withoutAnyEmailNothingIsSent() async {
        let transport = scripted()
        let p = provider(transport, config())
        let message = "no email for DNSPod's get-domain-back: add an email column or set DNSPOD_EMAIL (or DNSPOD_EMAIL_AUTO=1 to use the first address DNSPod offers)"
        #expect(await p.submit([item()]) == .settled([name("api4.com"): .skipped(message: message)]))
        #expect(p.skipReason(for: item(), now: Date()) == message)
        #expect(p.skipReason(for: item(email: "a@b.example"), now: Date()) == nil)
        #expect(transport.requests.isEmpty)
    }

    @Test func anInvalidItemEmailIsSkippedNotReplaced() async {
        let transport = scripted()
        let result = await provider(transport, config(email: "configured@example.com")).submit([item(email: "owner at example.com")])
        guard case .settled(let verdicts) = result, case .skipped(let message) = verdicts[name("api4.com")] else {
            Issue.record("expected skipped")
            return
        }
        #expect(message.contains("not an email address"))
        #expect(transport.requests.isEmpty)
    }

    @Test(arguments: [
        ("alice@example.com", "a***@example.com"), ("a@example.com", "***@example.com"),
        ("x.y+tag@mail.example.org", "x***@mail.example.org"), ("no-at-sign", "***"),
    ])
    func masking(email: String, masked: String) {
        #expect(DNSPodEmailChoice.masked(email) == masked)
    }

    @Test(arguments: [
        ("a@b.co", true), ("first.last+x@sub.example.com", true), ("用户@例子.广告", true),
        ("", false), ("a", false), ("@b.co", false), ("a@", false), ("a@b", false), ("a@@b.co", false),
        ("a b@c.co", false), ("a@b.co,c@d.co", false), ("a@.co", false), ("a@b.", false), ("<a@b.co>", false),
    ])
    func plausibility(email: String, plausible: Bool) {
        #expect(DNSPodEmailChoice.isPlausible(email) == plausible)
    }
}

// MARK: - answers

@Suite struct DNSPodAnswerTests {
    @Test func readsTheDocumentedShape() throws {
        let answer = try DNSPodAnswer(parsing: Array(status("1", extra: #","emails":["support@namecheap.com","x.protect@whoisguard.com"]"#).utf8))
        #expect(answer == DNSPodAnswer(code: "1", message: "Action completed successful", createdAt: "2012-09-23 18:07:44", emails: ["support@namecheap.com", "x.protect@whoisguard.com"]))
    }

    @Test(arguments: [
        (#"{"status":{"code":1,"message":"ok"}}"#, "1"), (#"{"status":{"code":-2}}"#, "-2"),
        (#"{"status":{"code":" 85 "}}"#, "85"), (#"{"status":{"code":1.0}}"#, "1"),
    ])
    func codesMayBeNumbers(json: String, code: String) throws {
        #expect(try DNSPodAnswer(parsing: Array(json.utf8)).code == code)
    }

    @Test func emailsAreReadLeniently() throws {
        let mixed = try DNSPodAnswer(parsing: Array(#"{"status":{"code":"1"},"emails":[1,null,"a@b.co",{"x":1},["y"],"c@d.co"]}"#.utf8))
        #expect(mixed.emails == ["a@b.co", "c@d.co"])
        let single = try DNSPodAnswer(parsing: Array(#"{"status":{"code":"1"},"emails":"a@b.co"}"#.utf8))
        #expect(single.emails == ["a@b.co"])
        let odd = try DNSPodAnswer(parsing: Array(#"{"status":{"code":"1"},"emails":{"0":"a@b.co"}}"#.utf8))
        #expect(odd.emails == [])
    }

    @Test(arguments: [
        ("", DNSPodAnswer.ParseError.notJSON), ("<?xml version=\"1.0\"?><dnspod><status><code>1</code></status></dnspod>", .notJSON),
        ("[1,2]", .notJSON), (#"{"code":"1"}"#, .noStatus), (#"{"status":"1"}"#, .noStatus),
        (#"{"status":{"message":"ok"}}"#, .noCode), (#"{"status":{"code":""}}"#, .noCode),
        (#"{"status":{"code":true}}"#, .noCode), (#"{"status":{"code":null}}"#, .noCode),
    ])
    func unusableAnswers(body: String, error: DNSPodAnswer.ParseError) {
        #expect(throws: error) { try DNSPodAnswer(parsing: Array(body.utf8)) }
    }
}

// MARK: - classification

@Suite struct DNSPodClassificationTests {
    let domain = name("api4.com")

    func send(_ body: String, status: Int = 200, headers: [String: String] = [:], email: String? = "owner@example.com") async -> SubmitResult {
        let transport = ScriptedTransport(status: status, body: body, headers: headers)
        return await wrapped(transport, config(email: email)).submit([item()])
    }

    @Test func successMasksTheAddress() async {
        #expect(await send(status("1")) == .settled([domain: .accepted(reference: nil, message: "verification code mailed to o***@example.com")]))
        #expect(await send(#"{"status":{"code":1,"message":"ok"}}"#) == .settled([domain: .accepted(reference: nil, message: "verification code mailed to o***@example.com")]))
    }

    @Test(arguments: [
        ("6", "invalid domain"), ("7", "Chinese characters"), ("8", "invalid domain"), ("9", ".tk"),
        ("10", "does not exist"), ("11", "prohibited"), ("12", "locked"), ("13", "company account to a personal"),
        ("14", "personal account to a company"), ("15", "WHOIS email"), ("16", "o***@example.com"),
    ])
    func domainCodesAreRejectedWithTheirMeaning(code: String, meaning: String) async {
        let result = await send(status(code, "Domain not exists"))
        guard case .settled(let verdicts) = result, case .rejected(let message) = verdicts[domain] else {
            Issue.record("expected rejected for \(code), got \(result)")
            return
        }
        #expect(message.contains(meaning))
        #expect(message.hasSuffix("(DNSPod code \(code))"))
        #expect(!message.contains("owner@example.com"))
    }

    @Test(arguments: [
        ("-1", "DNSPOD_LOGIN_TOKEN"), ("-7", "permissions"), ("-8", "hour"), ("85", "IP address"), ("83", "unlock"),
    ])
    func accountCodesHaltWithAFix(code: String, fixMentions: String) async {
        guard case .halt(let reason, let fix) = await send(status(code, "Login failed")) else {
            Issue.record("expected halt for \(code)")
            return
        }
        #expect(reason.contains("DNSPod code \(code)"))
        #expect(fix.contains(fixMentions))
    }

    /// DNSPod documents no wait for -2 or -99, so none is invented: the lane backs off adaptively.
    @Test func tooFrequentAndPausedAreRefusedWithoutAnInventedWait() async {
        guard case .refused(let reason, let wait) = await send(status("-2", "API usage exceeded")) else {
            Issue.record("expected refused")
            return
        }
        #expect(reason.contains("too frequently"))
        #expect(reason.contains("DNSPod code -2"))
        #expect(wait == nil)
        guard case .refused(let pausedReason, let paused) = await send(status("-99")) else {
            Issue.record("expected refused")
            return
        }
        #expect(pausedReason.contains("paused"))
        #expect(paused == nil)
    }

    @Test(arguments: [
        (200, status("3", "Unknown error")), (200, status("2", "POST only")), (200, status("0")), (200, "not json"),
        (200, "<html>gateway</html>"), (200, #"{"status":{}}"#), (200, ""), (500, status("1")), (502, ""), (408, ""),
    ])
    func everythingElseMayHaveLanded(httpStatus: Int, body: String) async {
        guard case .maybeProcessed = await send(body, status: httpStatus) else {
            Issue.record("expected maybeProcessed for HTTP \(httpStatus) \(body.prefix(30))")
            return
        }
    }

    @Test func throttlingAndWrongEndpoints() async {
        #expect(await send("", status: 429, headers: ["retry-after": "300"])
            == .refused(reason: "DNSPod answered HTTP 429 (too many requests), Retry-After 300 s", retryAfterSeconds: 300))
        guard case .halt(_, let fix) = await send("not found", status: 404) else {
            Issue.record("expected halt")
            return
        }
        #expect(fix.contains("DNSPOD_ENDPOINT"))
    }

    @Test func unavailableWithRetryAfterIsARefusalWithThatWait() async {
        // 503 + Retry-After: nothing was mailed, so the one resend DNSPod allows is not spent on an "unknown".
        #expect(await send("<html>down</html>", status: 503, headers: ["retry-after": "2"])
            == .refused(reason: "DNSPod answered HTTP 503 (service unavailable), Retry-After 2 s", retryAfterSeconds: 2))
        // An HTTP date is read against the injected clock.
        let now = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 GMT
        let transport = ScriptedTransport(status: 503, body: "", headers: ["retry-after": "Tue, 14 Nov 2023 22:14:05 GMT"])
        let dated = await DNSPodProvider(config: config(email: "owner@example.com"), transport: transport, now: { now }).submit([item()])
        #expect(dated == .refused(reason: "DNSPod answered HTTP 503 (service unavailable), Retry-After 45 s", retryAfterSeconds: 45))
    }

    @Test func tooManyRequestsWithoutRetryAfterHasNoWait() async {
        #expect(await send("", status: 429) == .refused(reason: "DNSPod answered HTTP 429 (too many requests) without Retry-After", retryAfterSeconds: nil))
        #expect(await send("", status: 429, headers: ["retry-after": "soon"])
            == .refused(reason: "DNSPod answered HTTP 429 (too many requests), unreadable Retry-After “soon”", retryAfterSeconds: nil))
    }

    @Test func unavailableWithoutRetryAfterMayHaveLanded() async {
        #expect(await send("", status: 503) == .maybeProcessed(reason: "DNSPod answered HTTP 503 (service unavailable) without Retry-After"))
        // An unreadable Retry-After is no promise that nothing was done.
        guard case .maybeProcessed = await send("", status: 503, headers: ["retry-after": "later"]) else {
            Issue.record("expected maybeProcessed")
            return
        }
    }

    @Test func anAddressListRefusedWithRetryAfterKeepsTheWait() async {
        let transport = ScriptedTransport { _ in HTTPResponse(status: 503, headers: ["retry-after": "2"], body: []) }
        let result = await provider(transport, config(auto: true)).submit([item()])
        #expect(result == .refused(reason: "asking for the address list: DNSPod answered HTTP 503 (service unavailable), Retry-After 2 s", retryAfterSeconds: 2))
        #expect(transport.requests.count == 1)
    }

    @Test func transportFailures() async {
        let p = { (t: ScriptedTransport) in provider(t, config(email: "owner@example.com")) }
        #expect(await p(failing(.neverSent, "connect refused")).submit([item()]) == .refused(reason: "DNSPod was not reached: connect refused", retryAfterSeconds: nil))
        guard case .maybeProcessed = await p(failing(.maybeProcessed)).submit([item()]),
            case .maybeProcessed = await p(failing(.bodyTooLarge)).submit([item()])
        else {
            Issue.record("expected maybeProcessed")
            return
        }
    }

    @Test func noReturnedStringCarriesTheToken() async {
        let echoes = [
            status("-1", "bad login_token \(token)"), status("3", "token \(tokenPart) unknown"), status("1"),
            status("16", percentEncodeQueryValue(token)),
        ]
        for body in echoes { #expect(!leaks(strings(await send(body)))) }
        #expect(!leaks(strings(await wrapped(failing(.maybeProcessed, "sent login_token=\(token)")).submit([item()]))))
        let acquire = scripted(acquire: status("-1", "token \(tokenPart)"))
        #expect(!leaks(strings(await wrapped(acquire, config(auto: true)).submit([item()]))))
    }
}

// MARK: - Domain.Acquire in auto mode

@Suite struct DNSPodAcquireTests {
    let domain = name("api4.com")

    func auto(_ acquire: String) async -> (SubmitResult, [HTTPRequest]) {
        let transport = scripted(acquire: acquire)
        let result = await provider(transport, config(auto: true)).submit([item()])
        return (result, transport.requests)
    }

    @Test func noOfferedAddressIsRejectedWithoutASend() async {
        for body in [status("1", extra: #","emails":[]"#), status("1"), status("1", extra: #","emails":["nope"]"#)] {
            let (result, requests) = await auto(body)
            guard case .settled(let verdicts) = result, case .rejected = verdicts[domain] else {
                Issue.record("expected rejected for \(body)")
                continue
            }
            #expect(requests.count == 1)
        }
    }

    @Test func acquireCodesSettleWithoutASend() async {
        let (rejected, r1) = await auto(status("10", "Domain not exists"))
        #expect(rejected == .settled([domain: .rejected(message: "the domain does not exist at DNSPod (DNSPod code 10)")]))
        #expect(r1.count == 1)

        let (vip, _) = await auto(status("86"))
        guard case .settled(let verdicts) = vip, case .rejected(let message) = verdicts[domain] else {
            Issue.record("expected rejected")
            return
        }
        #expect(message.contains("VIP"))

        let (halted, r2) = await auto(status("-1", "Login failed"))
        guard case .halt = halted else {
            Issue.record("expected halt")
            return
        }
        #expect(r2.count == 1)

        let (refused, r3) = await auto(status("-2"))
        guard case .refused(_, let wait) = refused else {
            Issue.record("expected refused")
            return
        }
        #expect(wait == nil, "DNSPod documents no wait for -2")
        #expect(r3.count == 1)
    }

    @Test func anUnclearAddressListIsASafeRefusal() async {
        for body in [status("3", "Unknown error"), "garbage", #"{"status":{}}"#] {
            let (result, requests) = await auto(body)
            guard case .refused = result else {
                Issue.record("expected refused for \(body), got \(result)")
                continue
            }
            #expect(requests.count == 1, "nothing is sent without an address")
        }
        for kind in [TransportError.Kind.neverSent, .maybeProcessed, .bodyTooLarge] {
            let transport = failing(kind)
            guard case .refused = await provider(transport, config(auto: true)).submit([item()]) else {
                Issue.record("expected refused for \(kind)")
                continue
            }
            #expect(transport.requests.count == 1)
        }
    }
}

// MARK: - configuration

@Suite struct DNSPodConfigTests {
    @Test func unsetMeansNotConfigured() throws {
        #expect(try DNSPodConfig.fromEnvironment([:]) == nil)
        #expect(try DNSPodConfig.fromEnvironment(["DNSPOD_LOGIN_TOKEN": " ", "DNSPOD_ENDPOINT": "https://x.example"]) == nil)
    }

    @Test func defaults() throws {
        let config = try #require(try DNSPodConfig.fromEnvironment(["DNSPOD_LOGIN_TOKEN": token]))
        #expect(config.loginToken == token)
        #expect(config.email == nil)
        #expect(config.emailAuto == false)
        #expect(config.endpoint == "https://api.dnspod.com")
        #expect(config.secrets == [token, tokenPart])
        #expect(DNSPodConfig.defaultPacing.concurrency == 1)
        #expect(DNSPodConfig.defaultPacing.requestsPerMinute <= 10)
    }

    @Test func everySettingIsRead() throws {
        let config = try #require(try DNSPodConfig.fromEnvironment([
            "DNSPOD_LOGIN_TOKEN": token, "DNSPOD_EMAIL": "me@example.com", "DNSPOD_EMAIL_AUTO": "1",
            "DNSPOD_ENDPOINT": "http://127.0.0.1:9",
        ]))
        #expect(config.email == "me@example.com")
        #expect(config.emailAuto)
        #expect(config.endpoint == "http://127.0.0.1:9")
        #expect(try DNSPodConfig.fromEnvironment(["DNSPOD_LOGIN_TOKEN": token, "DNSPOD_EMAIL_AUTO": "0"])?.emailAuto == false)
    }

    @Test(arguments: [
        ["DNSPOD_EMAIL": "me@example.com"], ["DNSPOD_EMAIL_AUTO": "1"],
        ["DNSPOD_LOGIN_TOKEN": tokenPart], ["DNSPOD_LOGIN_TOKEN": "abc,\(tokenPart)"], ["DNSPOD_LOGIN_TOKEN": ",\(tokenPart)"],
        ["DNSPOD_LOGIN_TOKEN": "730060,"], ["DNSPOD_LOGIN_TOKEN": "730060,\(tokenPart),x"], ["DNSPOD_LOGIN_TOKEN": "730060,e1a8a f14dc5"],
        ["DNSPOD_LOGIN_TOKEN": "730060;\(tokenPart)"],
    ])
    func tokenMistakesNameTheVariableWithoutRepeatingIt(env: [String: String]) {
        do {
            _ = try DNSPodConfig.fromEnvironment(env)
            Issue.record("expected an error for \(env.keys.sorted())")
        } catch {
            #expect(error.message.contains("DNSPOD_LOGIN_TOKEN"))
            #expect(!error.message.contains(tokenPart))
            #expect(!error.message.contains("f14dc5"))
        }
    }

    @Test(arguments: [
        (["DNSPOD_LOGIN_TOKEN": token, "DNSPOD_EMAIL": "nobody"], "DNSPOD_EMAIL"),
        (["DNSPOD_LOGIN_TOKEN": token, "DNSPOD_EMAIL_AUTO": "maybe"], "DNSPOD_EMAIL_AUTO"),
        (["DNSPOD_LOGIN_TOKEN": token, "DNSPOD_ENDPOINT": "api.dnspod.com"], "DNSPOD_ENDPOINT"),
    ])
    func otherMistakesNameTheVariable(env: [String: String], variable: String) {
        do {
            _ = try DNSPodConfig.fromEnvironment(env)
            Issue.record("expected an error naming \(variable)")
        } catch {
            #expect(error.message.contains(variable))
            #expect(!error.message.contains(tokenPart))
        }
    }
}
