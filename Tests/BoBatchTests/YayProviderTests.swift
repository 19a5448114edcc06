import BoBatchHTTP
import Foundation
import Testing

@testable import BoBatch

private let password = "pa$$ w0rd&=secret"
private let fixedNow = Date(timeIntervalSince1970: 1_700_000_000)
private let example = DomainName(validatedASCII: "example.com")
private let uuid = "31347d42-00bd-44a5-9b5c-20dc4197a2f6"

private func yay(_ transport: ScriptedTransport, endpoint: String = "https://api.yay.com") -> YayProvider {
    YayProvider(
        config: YayConfig(reseller: "R123", user: "bob", password: password, endpoint: endpoint), transport: transport,
        now: { fixedNow })
}

private func submit(_ body: String, status: Int, headers: [String: String] = [:]) async -> SubmitResult {
    let transport = ScriptedTransport(status: status, body: body, headers: headers)
    return await yay(transport).submit([BackorderItem(domain: example)])
}

private func expectKind(_ result: SubmitResult, _ kind: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let actual =
        switch result {
        case .settled: "settled"
        case .refused: "refused"
        case .maybeProcessed: "maybeProcessed"
        case .batchFailed: "batchFailed"
        case .halt: "halt"
        }
    #expect(actual == kind, "\(result)", sourceLocation: sourceLocation)
}

private let created = #"""
    {"result":{"domain_name":"example.com","expires_on":"2018-08-01","uuid":"31347d42-00bd-44a5-9b5c-20dc4197a2f6","created_on":"2017-12-14"},
     "status_code":201,"status_message":"Created"}
    """#

@Suite("Yay requests")
struct YayRequestTests {
    @Test func createRequest() async throws {
        let transport = ScriptedTransport(status: 201, body: created)
        _ = await yay(transport).submit([BackorderItem(domain: example)])
        #expect(transport.requests.count == 1)
        let request = try #require(transport.requests.first)
        #expect(request.method == .post)
        #expect(request.url == "https://api.yay.com/dom/back-order")
        #expect(request.idempotent == false)
        #expect(request.secrets == [password])
        #expect(request.headers.map(\.name) == ["X-Auth-Reseller", "X-Auth-User", "X-Auth-Password", "Content-Type", "Accept"])
        #expect(request.headers.map(\.value) == ["R123", "bob", password, "application/json", "application/json"])
        #expect(String(decoding: request.body ?? [], as: UTF8.self) == #"{"domain_name":"example.com"}"#)
    }

    @Test func theDomainIsAJSONStringWhateverItHolds() throws {
        for text in ["example.com", "xn--caf-dma.com", "a\"b", "back\\slash", "ctl\u{1}\n\r\t", "caf\u{E9}", "/slash/"] {
            let literal = YayProvider.jsonString(text)
            let decoded = try JSONSerialization.jsonObject(with: Data(literal.utf8), options: [.fragmentsAllowed]) as? String
            #expect(decoded == text, "\(literal)")
        }
    }

    @Test func listRequest() async throws {
        let transport = ScriptedTransport(status: 200, body: #"{"result":[],"status_code":200,"status_message":"OK"}"#)
        _ = await yay(transport, endpoint: "http://127.0.0.1:8081/").lookup([BackorderItem(domain: example)])
        let request = try #require(transport.requests.first)
        #expect(request.method == .get)
        #expect(request.url == "http://127.0.0.1:8081/dom/back-order")
        #expect(request.idempotent == true)
        #expect(request.body == nil)
        #expect(request.secrets == [password])
        #expect(request.headers.map(\.name) == ["X-Auth-Reseller", "X-Auth-User", "X-Auth-Password", "Accept"])
        #expect(request.maxResponseBytes >= 64 << 20)
    }

    // Cancel: YayFollowUpTests.swift.

    @Test func moreThanOneDomainIsNeverSent() async {
        let transport = ScriptedTransport(status: 201, body: created)
        // As the catalog hands it to the lane: the wrapper's one oversize rule stops it before Yay.com.
        let result = await RedactingProvider(yay(transport)).submit([BackorderItem(domain: example), BackorderItem(domain: DomainName(validatedASCII: "b.com"))])
        expectKind(result, "halt")
        #expect(transport.requests.isEmpty)
        #expect(yay(transport).maxBatch == 1)
    }
}

@Suite("Yay create answers")
struct YaySubmitAnswerTests {
    @Test func createdWithUUIDInResult() async {
        #expect(await submit(created, status: 201) == .settled([example: .accepted(reference: uuid, message: "back-order created (Created)")]))
    }

    @Test(arguments: [
        #"{"uuid":"31347d42-00bd-44a5-9b5c-20dc4197a2f6","status_code":"201"}"#,
        #"{"data":{"uuid":"31347d42-00bd-44a5-9b5c-20dc4197a2f6"}}"#,
        #"{"result":[{"domain_name":"example.com","uuid":"31347d42-00bd-44a5-9b5c-20dc4197a2f6"}]}"#,
    ])
    func uuidFoundInOtherShapes(body: String) async {
        guard case .settled(let verdicts) = await submit(body, status: 201), case .accepted(let reference, _) = verdicts[example] else {
            Issue.record("expected accepted")
            return
        }
        #expect(reference == uuid)
    }

    /// The uuid is what cancelling needs: a 201 that lost it is looked up (which returns it), not accepted blind.
    @Test(arguments: ["", "not json", #"{"result":{}}"#])
    func createdWithoutUUIDIsLookedUp(body: String) async {
        expectKind(await submit(body, status: 201), "maybeProcessed")
    }

    @Test func otherSuccessNeedsAUUID() async {
        expectKind(await submit("", status: 200), "maybeProcessed")
        expectKind(await submit("<html>ok</html>", status: 202), "maybeProcessed")
        #expect(await submit(#"{"result":{"uuid":"\#(uuid)"}}"#, status: 200) == .settled([example: .accepted(reference: uuid, message: "back-order created (OK)")]))
    }

    @Test func statusInsideA200Envelope() async {
        #expect(await submit(#"{"result":{},"status_code":409,"status_message":"Conflict"}"#, status: 200)
            == .settled([example: .already(reference: nil, message: "already back-ordered (Conflict)")]))
        expectKind(await submit(#"{"result":{},"status_code":401,"status_message":"Unauthorized"}"#, status: 200), "halt")
    }

    @Test func conflictIsAlready() async {
        #expect(await submit(#"{"result":{},"status_code":409,"status_message":"Conflict"}"#, status: 409)
            == .settled([example: .already(reference: nil, message: "already back-ordered (Conflict)")]))
        #expect(await submit("", status: 409) == .settled([example: .already(reference: nil, message: "already back-ordered (Conflict)")]))
    }

    @Test func badRequestIsRejectedWithTheAPIMessage() async {
        #expect(await submit(#"{"result":{},"status_code":400,"status_message":"Bad Request"}"#, status: 400)
            == .settled([example: .rejected(message: "Yay.com refused it (HTTP 400: Bad Request)")]))
        let detailed = #"{"status_code":422,"status_message":"Unprocessable Entity","errors":{"domain_name":["The domain name is not pending deletion"]}}"#
        #expect(await submit(detailed, status: 422)
            == .settled([example: .rejected(message: "Yay.com refused it (HTTP 422: Unprocessable Entity: domain_name: The domain name is not pending deletion)")]))
    }

    @Test func credentialsHalt() async {
        for status in [401, 403] {
            guard case .halt(_, let fix) = await submit(#"{"result":{},"status_code":\#(status),"status_message":"Unauthorized"}"#, status: status) else {
                Issue.record("\(status) should halt")
                continue
            }
            #expect(fix == "check YAY_RESELLER/YAY_USER/YAY_PASSWORD")
        }
    }

    @Test func fundsHalt() async {
        guard case .halt(_, let fix) = await submit("", status: 402) else { Issue.record("402"); return }
        #expect(fix.contains("funds"))
        guard case .halt(let reason, _) = await submit(#"{"status_code":400,"status_message":"Bad Request","message":"Insufficient account balance"}"#, status: 400) else {
            Issue.record("balance message")
            return
        }
        #expect(reason.contains("Insufficient account balance"))
    }

    @Test func rateLimitAndUnavailable() async {
        #expect(await submit("", status: 429, headers: ["retry-after": "12"])
            == .refused(reason: "Yay.com answered HTTP 429 (too many requests), Retry-After 12 s", retryAfterSeconds: 12))
        let later = "Tue, 14 Nov 2023 22:15:00 GMT"  // fixedNow + 100 s
        #expect(await submit("", status: 429, headers: ["retry-after": later])
            == .refused(reason: "Yay.com answered HTTP 429 (too many requests), Retry-After 100 s", retryAfterSeconds: 100))
        #expect(await submit("", status: 429)
            == .refused(reason: "Yay.com answered HTTP 429 (too many requests) without Retry-After", retryAfterSeconds: nil))
        #expect(await submit("", status: 503, headers: ["retry-after": "7"])
            == .refused(reason: "Yay.com answered HTTP 503 (service unavailable), Retry-After 7 s", retryAfterSeconds: 7))
        for status in [500, 502, 503, 504] { expectKind(await submit("", status: status), "maybeProcessed") }
        expectKind(await submit("", status: 418), "maybeProcessed")
        expectKind(await submit("", status: 404), "halt")
        // Funds wording decides only on refusals, never on a conflict.
        expectKind(await submit(#"{"status_code":409,"status_message":"Conflict","message":"no credit taken"}"#, status: 409), "settled")
    }

    @Test func unavailableWithRetryAfterIsARefusalWithThatWait() async {
        #expect(await submit("<html>maintenance</html>", status: 503, headers: ["retry-after": "2"])
            == .refused(reason: "Yay.com answered HTTP 503 (service unavailable), Retry-After 2 s (<html>maintenance</html>)", retryAfterSeconds: 2))
        let later = "Tue, 14 Nov 2023 22:13:50 GMT"  // fixedNow + 30 s
        #expect(await submit("", status: 503, headers: ["retry-after": later])
            == .refused(reason: "Yay.com answered HTTP 503 (service unavailable), Retry-After 30 s", retryAfterSeconds: 30))
        // A gateway that answers 200 with the real status in the envelope: the header still carries the wait.
        let inner = #"{"result":{},"status_code":503,"status_message":"Service Unavailable"}"#
        #expect(await submit(inner, status: 200, headers: ["retry-after": "4"])
            == .refused(reason: "Yay.com answered HTTP 503 (service unavailable), Retry-After 4 s", retryAfterSeconds: 4))
    }

    @Test func unavailableWithoutRetryAfterMayHaveLanded() async {
        #expect(await submit("", status: 503)
            == .maybeProcessed(reason: "Yay.com answered HTTP 503 (service unavailable) without Retry-After; checking before any resend"))
        #expect(await submit("", status: 502, headers: ["retry-after": "2"])
            == .maybeProcessed(reason: "Yay.com answered HTTP 502; checking before any resend"))
    }

    @Test func transportFailures() async {
        func run(_ kind: TransportError.Kind) async -> SubmitResult {
            let transport = ScriptedTransport { _ throws(TransportError) in throw TransportError(kind: kind, message: "cut", code: 28) }
            return await yay(transport).submit([BackorderItem(domain: example)])
        }
        #expect(await run(.neverSent) == .refused(reason: "Yay.com was not reached: cut", retryAfterSeconds: nil))
        #expect(await run(.maybeProcessed) == .maybeProcessed(reason: "no answer from Yay.com: cut"))
        expectKind(await run(.bodyTooLarge), "maybeProcessed")
    }

    @Test func thePasswordNeverComesBack() async {
        let echo = #"{"status_code":400,"status_message":"Bad Request","message":"bad password \#(password)"}"#
        for (body, status) in [(echo, 400), (echo, 401), (echo, 500), ("<p>\(password)</p>", 502), ("<p>\(password)</p>", 200)] {
            let result = await RedactingProvider(yay(ScriptedTransport(status: status, body: body))).submit([BackorderItem(domain: example)])
            #expect(!"\(result)".contains(password), "\(result)")
            #expect("\(result)".contains("***"), "\(result)")
        }
        let transport = ScriptedTransport(status: 403, body: echo)
        #expect(!"\(await RedactingProvider(yay(transport)).lookup([BackorderItem(domain: example)]))".contains(password))
    }
}

@Suite("Yay lookup")
struct YayLookupTests {
    @Test func findsTheAskedDomains() async {
        let body = #"""
            {"result":[
              {"domain_name":"Example.COM.","expires_on":"2018-08-01","uuid":"31347d42-00bd-44a5-9b5c-20dc4197a2f6","created_on":"2017-12-14","updated_on":"2017-12-14"},
              {"domain_name":"other.net","uuid":"aaaa"},
              {"domain_name":"nouuid.org"}
            ],"status_code":200,"status_message":"OK"}
            """#
        let asked = ["example.com", "nouuid.org", "absent.io"].map { BackorderItem(domain: DomainName(validatedASCII: $0)) }
        let result = await yay(ScriptedTransport(status: 200, body: body)).lookup(asked)
        #expect(result == .found([example: uuid, DomainName(validatedASCII: "nouuid.org"): ""]))
    }

    @Test(arguments: [
        #"{"result":[],"status_code":200,"status_message":"OK"}"#,
        #"{"result":{},"status_code":200,"status_message":"OK"}"#,
        "[]",
    ])
    func emptyListProvesAbsence(body: String) async {
        #expect(await yay(ScriptedTransport(status: 200, body: body)).lookup([BackorderItem(domain: example)]) == .found([:]))
    }

    @Test func parsesEntries() {
        let answer = YayAnswer.parse(Array(#"{"result":[{"domain_name":"a.com","uuid":"u1","expires_on":"2018-08-01","created_on":"2017-12-14","updated_on":"2017-12-15"}],"status_code":"200"}"#.utf8))
        #expect(answer?.statusCode == 200)
        #expect(answer?.entries == [.init(domain: "a.com", uuid: "u1", expiresOn: "2018-08-01", createdOn: "2017-12-14", updatedOn: "2017-12-15")])
    }

    @Test func failures() async {
        func run(_ status: Int, _ body: String) async -> LookupResult {
            await yay(ScriptedTransport(status: status, body: body)).lookup([BackorderItem(domain: example)])
        }
        guard case .halt(_, let fix) = await run(401, "") else { Issue.record("401"); return }
        #expect(fix == "check YAY_RESELLER/YAY_USER/YAY_PASSWORD")
        guard case .unavailable = await run(404, #"{"result":{},"status_code":404,"status_message":"Not Found"}"#) else { Issue.record("404"); return }
        guard case .unavailable = await run(429, "") else { Issue.record("429"); return }
        let refused = ScriptedTransport(status: 503, body: "", headers: ["retry-after": "2"])
        #expect(await yay(refused).lookup([BackorderItem(domain: example)])
            == .unavailable(reason: "GET /dom/back-order: Yay.com answered HTTP 503 (service unavailable), Retry-After 2 s"))
        guard case .unavailable = await run(500, "") else { Issue.record("500"); return }
        guard case .unavailable = await run(200, "garbage") else { Issue.record("garbage"); return }
        guard case .unavailable = await run(200, #"{"status_code":200,"status_message":"OK"}"#) else { Issue.record("no result"); return }
        let transport = ScriptedTransport { _ throws(TransportError) in throw TransportError(kind: .maybeProcessed, message: "reset", code: 56) }
        guard case .unavailable = await yay(transport).lookup([BackorderItem(domain: example)]) else { Issue.record("transport"); return }
    }
}

@Suite("Yay configuration")
struct YayConfigTests {
    let full = ["YAY_RESELLER": "R123", "YAY_USER": "bob", "YAY_PASSWORD": password]

    @Test func unsetIsNil() throws {
        #expect(try YayConfig.fromEnvironment([:]) == nil)
        #expect(try YayConfig.fromEnvironment(["YAY_ENDPOINT": "https://x.example"]) == nil)
    }

    @Test func halfSetNamesTheMissingVariables() {
        var env = full
        env["YAY_USER"] = nil
        do {
            _ = try YayConfig.fromEnvironment(env)
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("YAY_USER"))
            #expect(!error.message.contains(password))
        }
        do {
            _ = try YayConfig.fromEnvironment(["YAY_PASSWORD": password])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("YAY_RESELLER") && error.message.contains("YAY_USER"))
        }
    }

    @Test func defaultsAndOverrides() throws {
        let c = try #require(try YayConfig.fromEnvironment(full))
        #expect(c.reseller == "R123" && c.user == "bob" && c.password == password)
        #expect(c.endpoint == "https://api.yay.com")
        #expect(c.pacing == YayConfig.defaultPacing)
        var env = full
        env["YAY_ENDPOINT"] = "http://127.0.0.1:9"
        env["YAY_THREADS"] = "2"
        let o = try #require(try YayConfig.fromEnvironment(env))
        #expect(o.endpoint == "http://127.0.0.1:9")
        #expect(o.pacing.concurrency == 2)
    }

    @Test(arguments: ["ftp://api.yay.com", "api.yay.com", "http://"])
    func badEndpoint(value: String) {
        var env = full
        env["YAY_ENDPOINT"] = value
        do {
            _ = try YayConfig.fromEnvironment(env)
            Issue.record("expected an error for \(value)")
        } catch {
            #expect(error.message.contains("YAY_ENDPOINT"))
        }
    }
}

@Suite struct ProviderJSONTextTests {
    @Test func valuesReadAsTrimmedText() {
        let cases: [(Any, String?)] = [
            ("abc", "abc"), (" padded\t", "padded"), ("\n", nil), ("", nil), ("caf\u{e9}", "caf\u{e9}"), (" \u{a0}x\u{a0}", "x"),
            ("x\u{a0}", "x"), (12, "12"), (2.0, "2"), (2.5, "2.5"), ([1], nil),
        ]
        for (value, expected) in cases {
            #expect(ProviderText.jsonText(value) == expected, "\(value)")
        }
    }
}
