import BoBatchHTTP
import Foundation
import Testing

@testable import BoBatch

private let appKey = "s3cr3t-KEY"
private let fixedNow = Date(timeIntervalSince1970: 1_700_000_000)

private func domain(_ name: String) -> DomainName { DomainName(validatedASCII: name) }

private func config(bulk: Bool = false, channel: String = "1", maxPrice: String? = nil, endpoint: String = "https://api.gname.com") -> GnameConfig {
    GnameConfig(appID: "100abc", appKey: appKey, channel: channel, endpoint: endpoint, bulk: bulk, maxPrice: maxPrice)
}

private func provider(_ transport: ScriptedTransport, bulk: Bool = false, maxPrice: String? = nil, channel: String = "1") -> GnameProvider {
    GnameProvider(config: config(bulk: bulk, channel: channel, maxPrice: maxPrice), transport: transport, now: { fixedNow })
}

private func response(_ body: String, status: Int = 200, headers: [String: String] = [:]) -> HTTPResponse {
    HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
}

private func httpDate(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    return formatter.string(from: date)
}

/// Submits one domain through the provider against a canned answer.
private func submitOne(_ body: String, status: Int = 200, headers: [String: String] = [:]) async -> SubmitResult {
    let transport = ScriptedTransport { _ in response(body, status: status, headers: headers) }
    return await provider(transport).submit([BackorderItem(domain: domain("example.com"))])
}

/// Every string a result carries, for checking that no secret leaks.
private func strings(_ result: SubmitResult) -> [String] {
    func of(_ v: Verdict) -> [String] {
        switch v {
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

@Suite("Gname signer")
struct GnameSignerTests {
    @Test func publishedTestVector() {
        let fields = ["appid": "APPID", "gntime": "1234567890", "url": "https://www.gname.com", "ym": "gname.com"]
        #expect(GnameSigner.signingString(fields, appKey: "APPKEY") == "appid=APPID&gntime=1234567890&url=https%3A%2F%2Fwww.gname.com&ym=gname.comAPPKEY")
        #expect(GnameSigner.token(fields, appKey: "APPKEY") == "B48D34C9A15A3F33ED61396E5BD8F1F8")
    }

    @Test func gntokenIsNeverSigned() {
        let fields = ["appid": "APPID", "gntime": "1234567890", "url": "https://www.gname.com", "ym": "gname.com"]
        var withToken = fields
        withToken["gntoken"] = "OLD"
        #expect(GnameSigner.token(withToken, appKey: "APPKEY") == "B48D34C9A15A3F33ED61396E5BD8F1F8")
    }

    @Test func phpURLEncodeRules() {
        #expect(GnameSigner.urlencode("aZ09-_.") == "aZ09-_.")
        #expect(GnameSigner.urlencode("a b") == "a+b")
        #expect(GnameSigner.urlencode("~*'") == "%7E%2A%27")
        #expect(GnameSigner.urlencode("é") == "%C3%A9")
        #expect(GnameSigner.urlencode("a.com\nb.net") == "a.com%0Ab.net")
        #expect(GnameSigner.urlencode("/:?") == "%2F%3A%3F")
    }

    @Test func sortsByByteOrder() {
        // Uppercase sorts before lowercase in byte order; a locale-aware sort would interleave them.
        let pairs = GnameSigner.encodedPairs(["b": "1", "B": "2", "a": "3", "_": "4"])
        #expect(pairs == ["B=2", "_=4", "a=3", "b=1"])
    }
}

@Suite("Gname requests")
struct GnameRequestTests {
    @Test func singleAddRequest() async throws {
        let transport = ScriptedTransport(body: #"{"code":1,"msg":"backorder success","data":"3.00"}"#)
        _ = await provider(transport).submit([BackorderItem(domain: domain("example.com"))])
        let request = try #require(transport.requests.first)
        #expect(transport.requests.count == 1)
        #expect(request.method == .post)
        #expect(request.url == "https://api.gname.com/api/backorder/add")
        #expect(request.headers.map(\.name) == ["Content-Type", "Accept"])
        #expect(request.headers.first { $0.name == "Content-Type" }?.value == "application/x-www-form-urlencoded")
        #expect(request.idempotent == false)
        #expect(request.secrets == [appKey])
        // Token computed independently (Python hashlib over the same signing string).
        let body = String(decoding: request.body ?? [], as: UTF8.self)
        #expect(body == "appid=100abc&gntime=1700000000&td=1&ym=example.com&gntoken=458C848AC0D3226AF3E18952A1273449")
        #expect(!body.contains(appKey))
    }

    @Test func bulkRequestSignsWhatItSends() async throws {
        let transport = ScriptedTransport(body: #"{"code":1,"msg":"OK","data":{"ok":[],"err":[]}}"#)
        let p = provider(transport, bulk: true, maxPrice: "10.50", channel: "2")
        #expect(p.maxBatch == 100)
        _ = await p.submit([BackorderItem(domain: domain("a.com")), BackorderItem(domain: domain("b.net"))])
        let request = try #require(transport.requests.first)
        #expect(request.url == "https://api.gname.com/api/backorder/bulk")
        #expect(request.idempotent == false)
        let body = String(decoding: request.body ?? [], as: UTF8.self)
        #expect(body == "appid=100abc&gntime=1700000000&qian=10.50&td=2&ym=a.com%0Ab.net&gntoken=C9C818294FECD2B45EAE44882CA2E43C")
        #expect(request.formFields["ym"] == "a.com\nb.net")
        // The body is the signing string's pairs, then the token: one encoder for both.
        let signed = GnameSigner.signingString(request.formFields.filter { $0.key != "gntoken" }, appKey: appKey)
        #expect(body.hasPrefix(String(signed.dropLast(appKey.count)) + "&gntoken="))
    }

    @Test func bulkModeSendsASingleDomainThroughAdd() async throws {
        let transport = ScriptedTransport(body: #"{"code":1,"msg":"backorder success","data":"3.00"}"#)
        _ = await provider(transport, bulk: true).submit([BackorderItem(domain: domain("a.com"))])
        #expect(transport.requests.first?.url == "https://api.gname.com/api/backorder/add")
    }

    @Test func defaultModeIsOneDomainPerCall() {
        #expect(provider(ScriptedTransport(body: "")).maxBatch == 1)
    }

    @Test func endpointTrailingSlashIsNotDoubled() async throws {
        let transport = ScriptedTransport(body: #"{"code":1,"msg":"ok","data":""}"#)
        let p = GnameProvider(config: config(endpoint: "http://127.0.0.1:8080/"), transport: transport, now: { fixedNow })
        _ = await p.submit([BackorderItem(domain: domain("example.com"))])
        #expect(transport.requests.first?.url == "http://127.0.0.1:8080/api/backorder/add")
    }

    @Test func infoRequestIsIdempotent() async throws {
        let transport = ScriptedTransport(body: #"{"code":-1,"msg":"no record","data":""}"#)
        _ = await provider(transport).status(of: domain("example.com"))
        let request = try #require(transport.requests.first)
        #expect(request.url == "https://api.gname.com/api/backorder/info")
        #expect(request.idempotent == true)
        #expect(request.secrets == [appKey])
        #expect(request.formFields["ym"] == "example.com")
        #expect(request.formFields["td"] == nil)
        let unsigned = request.formFields.filter { $0.key != "gntoken" }
        #expect(request.formFields["gntoken"] == GnameSigner.token(unsigned, appKey: appKey))
    }
}

@Suite("Gname single create answers")
struct GnameSubmitAnswerTests {
    let example = domain("example.com")

    @Test func success() async {
        let result = await submitOne(#"{"code":1,"msg":"backorder success","data":"3.00"}"#)
        #expect(result == .settled([example: .accepted(reference: nil, message: "backorder success; deposit frozen: 3.00")]))
    }

    @Test func successWithCodeAsStringAndNumericDeposit() async {
        let result = await submitOne(#"{"code":"1","msg":"backorder success","data":3}"#)
        #expect(result == .settled([example: .accepted(reference: nil, message: "backorder success; deposit frozen: 3")]))
    }

    @Test(arguments: [
        #"{"code":-2,"msg":"Sorry, you have already backordered this domain","data":""}"#,
        #"{"code":-1,"msg":"Sorry, you have already backordered this domain","data":""}"#,
        #"{"code":"-2","msg":"","data":""}"#,
    ])
    func already(body: String) async {
        let result = await submitOne(body)
        guard case .settled(let verdicts) = result, case .already = verdicts[example] else {
            Issue.record("expected already, got \(result)")
            return
        }
    }

    @Test(arguments: [
        "sorry, the domain isn't found",
        "sorry, domain format incorrect",
        "the domain is not in the deletion list",
        "this suffix is not supported",
        "domain already registered",
        "域名不存在",
        "the deletion time of this domain has passed",
    ])
    func domainProblemsAreRejected(message: String) async {
        let result = await submitOne(#"{"code":-1,"msg":"\#(message)","data":""}"#)
        #expect(result == .settled([example: .rejected(message: message)]))
    }

    @Test(arguments: ["request too frequent, please try again later", "Too many requests", "system busy", "操作频繁", "too frequent from your IP"])
    func busyIsRefused(message: String) async {
        let result = await submitOne(#"{"code":-1,"msg":"\#(message)","data":""}"#)
        guard case .refused(let reason, nil) = result else {
            Issue.record("expected refused, got \(result)")
            return
        }
        #expect(reason.contains(message))
    }

    @Test(arguments: [
        ("IP not in whitelist", "IP whitelist"),
        ("Sorry, insufficient balance", "top up"),
        ("appid does not exist", "GNAME_APPID"),
        ("permission denied", "API access"),
        ("invalid channel", "GNAME_CHANNEL"),
        ("账户余额不足", "top up"),
        ("Sorry, insufficient balance, please try again later", "top up"),
        ("your account is disabled", "API access"),
    ])
    func accountProblemsHalt(message: String, fixMentions: String) async {
        let result = await submitOne(#"{"code":-1,"msg":"\#(message)","data":""}"#)
        guard case .halt(let reason, let fix) = result else {
            Issue.record("expected halt, got \(result)")
            return
        }
        #expect(reason.contains(message))
        #expect(fix.contains(fixMentions))
    }

    @Test func signatureErrorWithSaneClockBlamesTheKey() async {
        let result = await submitOne(
            #"{"code":-1,"msg":"Sorry, request verification error","data":""}"#, headers: ["date": httpDate(fixedNow.addingTimeInterval(2))])
        guard case .halt(let reason, let fix) = result else {
            Issue.record("expected halt, got \(result)")
            return
        }
        #expect(!reason.contains("clock skew"))
        #expect(fix.contains("GNAME_APPKEY"))
    }

    @Test func signatureErrorWithSkewedClockBlamesTheClock() async {
        let result = await submitOne(
            #"{"code":-1,"msg":"Sorry, request verification error","data":""}"#, headers: ["date": httpDate(fixedNow.addingTimeInterval(-300))])
        guard case .halt(let reason, let fix) = result else {
            Issue.record("expected halt, got \(result)")
            return
        }
        #expect(reason.hasPrefix("clock skew: this machine's clock is 300 s off the provider's"))
        #expect(fix == "sync the clock (e.g. timedatectl set-ntp true)")
    }

    @Test(arguments: ["gntime expired", "timestamp error", "request time is invalid"])
    func timeErrorsBlameTheClockEvenWithoutDateHeader(message: String) async {
        let result = await submitOne(#"{"code":-1,"msg":"\#(message)","data":""}"#)
        guard case .halt(let reason, let fix) = result else {
            Issue.record("expected halt, got \(result)")
            return
        }
        #expect(reason.hasPrefix("clock skew:"))
        #expect(fix.contains("timedatectl"))
    }

    @Test func skewAloneDoesNotTurnADomainErrorIntoAHalt() async {
        let result = await submitOne(
            #"{"code":-1,"msg":"sorry, the domain isn't found","data":""}"#, headers: ["date": httpDate(fixedNow.addingTimeInterval(900))])
        #expect(result == .settled([example: .rejected(message: "sorry, the domain isn't found")]))
    }

    @Test(arguments: [
        #"{"code":-1,"msg":"backorder failed","data":""}"#,
        #"{"code":-9,"msg":"something new","data":""}"#,
        #"{"code":-1,"msg":"invalid parameter","data":""}"#,
        #"{"msg":"","data":""}"#,
    ])
    func unrecognisedFailuresAreCheckedNotGuessed(body: String) async {
        let result = await submitOne(body)
        guard case .maybeProcessed = result else {
            Issue.record("expected maybeProcessed, got \(result)")
            return
        }
    }

    @Test(arguments: ["", "<html>502 Bad Gateway</html>", "[1,2]", #"{"status":"ok"}"#, "{\"code\":1,"])
    func unparseableBodyIsMaybeProcessed(body: String) async {
        let result = await submitOne(body)
        guard case .maybeProcessed = result else {
            Issue.record("expected maybeProcessed, got \(result)")
            return
        }
    }

    @Test func httpStatuses() async {
        #expect(await submitOne("", status: 429, headers: ["retry-after": "30"])
            == .refused(reason: "Gname answered HTTP 429 (too many requests), Retry-After 30 s", retryAfterSeconds: 30))
        #expect(await submitOne("", status: 503, headers: ["retry-after": "5"])
            == .refused(reason: "Gname answered HTTP 503 (service unavailable), Retry-After 5 s", retryAfterSeconds: 5))
        guard case .maybeProcessed = await submitOne("", status: 503) else { Issue.record("503 without Retry-After"); return }
        guard case .maybeProcessed = await submitOne(#"{"code":-1,"msg":"IP not in whitelist"}"#, status: 500) else {
            Issue.record("500 is maybeProcessed whatever the body")
            return
        }
        guard case .halt(_, let fix) = await submitOne("Forbidden", status: 403) else { Issue.record("403"); return }
        #expect(fix.contains("whitelisted"))
        guard case .halt(_, let endpointFix) = await submitOne("Not Found", status: 404) else { Issue.record("404"); return }
        #expect(endpointFix == "check GNAME_ENDPOINT")
        // A 4xx carrying Gname's envelope is judged by its message.
        #expect(await submitOne(#"{"code":-1,"msg":"sorry, the domain isn't found"}"#, status: 400)
            == .settled([example: .rejected(message: "sorry, the domain isn't found")]))
    }

    @Test func unavailableWithRetryAfterIsARefusalWithThatWait() async {
        #expect(await submitOne("<html>maintenance</html>", status: 503, headers: ["retry-after": "2"])
            == .refused(reason: "Gname answered HTTP 503 (service unavailable), Retry-After 2 s", retryAfterSeconds: 2))
        // An HTTP date is read against the provider's clock.
        #expect(await submitOne("", status: 503, headers: ["retry-after": httpDate(fixedNow.addingTimeInterval(120))])
            == .refused(reason: "Gname answered HTTP 503 (service unavailable), Retry-After 120 s", retryAfterSeconds: 120))
    }

    @Test func tooManyRequestsWithoutRetryAfterHasNoWait() async {
        #expect(await submitOne("", status: 429) == .refused(reason: "Gname answered HTTP 429 (too many requests) without Retry-After", retryAfterSeconds: nil))
    }

    @Test func unavailableWithoutRetryAfterMayHaveLanded() async {
        #expect(await submitOne("", status: 503)
            == .maybeProcessed(reason: "Gname answered HTTP 503 (service unavailable) without Retry-After"))
        #expect(await submitOne("Bad Gateway", status: 502, headers: ["retry-after": "2"])
            == .maybeProcessed(reason: "Gname answered HTTP 502: Bad Gateway"))
    }

    @Test func aLookupRefusedWithRetryAfterIsUnavailable() async {
        let transport = ScriptedTransport(status: 503, body: "", headers: ["retry-after": "2"])
        #expect(await provider(transport).lookup([BackorderItem(domain: example)])
            == .unavailable(reason: "example.com: backorder/info: Gname answered HTTP 503 (service unavailable), Retry-After 2 s"))
        #expect(await provider(ScriptedTransport(status: 429, body: "")).status(of: example)
            == .unavailable(reason: "backorder/info: Gname answered HTTP 429 (too many requests) without Retry-After"))
    }

    @Test func transportFailures() async {
        func run(_ kind: TransportError.Kind) async -> SubmitResult {
            let transport = ScriptedTransport { _ throws(TransportError) in throw TransportError(kind: kind, message: "boom", code: 7) }
            return await provider(transport).submit([BackorderItem(domain: example)])
        }
        #expect(await run(.neverSent) == .refused(reason: "Gname was not reached: boom", retryAfterSeconds: nil))
        guard case .maybeProcessed = await run(.maybeProcessed) else { Issue.record("maybeProcessed"); return }
        guard case .maybeProcessed = await run(.bodyTooLarge) else { Issue.record("bodyTooLarge"); return }
    }

    @Test func secretsNeverComeBack() async {
        let bodies = [
            #"{"code":-1,"msg":"bad appkey \#(appKey)","data":""}"#,
            #"{"code":-1,"msg":"unknown \#(appKey)","data":""}"#,
            #"{"code":1,"msg":"ok \#(appKey)","data":"\#(appKey)"}"#,
            "<html>\(appKey)</html>",
        ]
        func submitWrapped(_ body: String, status: Int = 200) async -> SubmitResult {
            let transport = ScriptedTransport { _ in response(body, status: status) }
            return await RedactingProvider(provider(transport)).submit([BackorderItem(domain: domain("example.com"))])
        }
        for body in bodies {
            for result in [await submitWrapped(body), await submitWrapped(body, status: 502)] {
                let texts = strings(result)
                #expect(!texts.isEmpty)
                #expect(texts.allSatisfy { !$0.contains(appKey) }, "\(result)")
            }
        }
        let transport = ScriptedTransport(body: #"{"code":-1,"msg":"IP \#(appKey) not in whitelist"}"#)
        guard case .halt(let reason, _) = await provider(transport).status(of: example) else { Issue.record("halt"); return }
        #expect(!reason.contains(appKey))
    }
}

@Suite("Gname bulk answers")
struct GnameBulkTests {
    let a = domain("a.com"), b = domain("b.net"), c = domain("c.org")

    private func submit(_ body: String, domains: [DomainName]? = nil) async -> SubmitResult {
        let transport = ScriptedTransport(body: body)
        return await provider(transport, bulk: true).submit((domains ?? [a, b, c]).map { BackorderItem(domain: $0) })
    }

    @Test func perDomainVerdicts() async {
        let body = #"""
            {"code":1,"msg":"OK","data":{"oksl":1,"errsl":2,
             "ok":[{"code":1,"msg":"successfully backorder","data":"3.00","ym":"a.com"}],
             "err":[{"code":-2,"msg":"Sorry, you have already backordered this domain","data":"","ym":"B.NET."},
                    {"code":"-1","msg":"sorry, the domain isn't found","data":"","ym":"c.org"}]}}
            """#
        #expect(await submit(body) == .settled([
            a: .accepted(reference: nil, message: "successfully backorder; deposit frozen: 3.00"),
            b: .already(reference: nil, message: "Sorry, you have already backordered this domain"),
            c: .rejected(message: "sorry, the domain isn't found"),
        ]))
    }

    @Test func unrecognisedItemErrorIsRejectedWithGnamesWords() async {
        let body = #"{"code":1,"msg":"OK","data":{"ok":[],"err":[{"code":-1,"msg":"mystery","ym":"a.com"}]}}"#
        #expect(await submit(body, domains: [a, b]) == .settled([a: .rejected(message: "Gname did not place it: “mystery”")]))
    }

    @Test func domainsTheAnswerOmitsAreLeftToTheLane() async {
        let body = #"{"code":1,"msg":"OK","data":{"ok":[{"code":1,"msg":"ok","data":"3.00","ym":"a.com"}],"err":[]}}"#
        guard case .settled(let verdicts) = await submit(body) else { Issue.record("settled"); return }
        #expect(Set(verdicts.keys) == [a])
    }

    @Test func nothingMatchingIsMaybeProcessed() async {
        let body = #"{"code":1,"msg":"OK","data":{"ok":[{"code":1,"ym":"other.com"}],"err":[]}}"#
        guard case .maybeProcessed = await submit(body) else { Issue.record("maybeProcessed"); return }
        guard case .maybeProcessed = await submit(#"{"code":1,"msg":"OK","data":""}"#) else { Issue.record("no lists"); return }
    }

    @Test func accountErrorForEveryItemHalts() async {
        let body = #"{"code":1,"msg":"OK","data":{"ok":[],"err":[{"code":-1,"msg":"insufficient balance","ym":"a.com"},{"code":-1,"msg":"insufficient balance","ym":"b.net"}]}}"#
        guard case .halt(_, let fix) = await submit(body, domains: [a, b]) else { Issue.record("halt"); return }
        #expect(fix.contains("top up"))
    }

    @Test func balanceRunningOutMidwayKeepsWhatWasPlaced() async {
        let body = #"{"code":1,"msg":"OK","data":{"ok":[{"code":1,"msg":"ok","data":"3.00","ym":"a.com"}],"err":[{"code":-1,"msg":"insufficient balance","ym":"b.net"},{"code":-1,"msg":"system busy","ym":"c.org"}]}}"#
        guard case .settled(let verdicts) = await submit(body) else { Issue.record("settled"); return }
        #expect(Set(verdicts.keys) == [a])
    }

    @Test func busyItemsWithNothingPlacedAreRefused() async {
        let body = #"{"code":1,"msg":"OK","data":{"ok":[],"err":[{"code":-1,"msg":"too frequent","ym":"a.com"},{"code":-2,"msg":"already","ym":"b.net"}]}}"#
        guard case .refused = await submit(body, domains: [a, b]) else { Issue.record("refused"); return }
    }

    @Test func wholeCallFailures() async {
        guard case .halt = await submit(#"{"code":-1,"msg":"Sorry, request verification error","data":""}"#) else { Issue.record("halt"); return }
        #expect(await submit(#"{"code":-1,"msg":"sorry, domain format incorrect","data":""}"#)
            == .batchFailed(reason: "Gname refused the bulk request: “sorry, domain format incorrect”", verdictIfAlone: .rejected(message: "sorry, domain format incorrect")))
        guard case .maybeProcessed = await submit(#"{"code":-1,"msg":"failed","data":""}"#) else { Issue.record("maybeProcessed"); return }
        guard case .refused = await submit(#"{"code":-1,"msg":"busy","data":""}"#) else { Issue.record("refused"); return }
    }

    @Test func listsAsStringsOrKeyedObjects() {
        let body = #"{"code":1,"msg":"OK","data":{"ok":["a.com"],"err":{"0":{"code":-2,"msg":"already","ym":"b.net"}}}}"#
        let answer = GnameAnswer.parse(Array(body.utf8))
        #expect(answer?.bulkItems == [
            .init(domain: "a.com", listedOK: true, code: nil, message: ""),
            .init(domain: "b.net", listedOK: false, code: -2, message: "already"),
        ])
    }
}

@Suite("Gname info and lookup")
struct GnameLookupTests {
    static let infoBody = #"""
        {"code":1,"msg":"OK","data":{"id":"3313994","ym":"example.com","zt":"2","td":"2","sclx":"1","scsj":"2021-08-05",
         "qian":"28.00","dqian":"0.00","sj":"2021-08-02 22:19:54","ztstr":"auction won","sclxstr":"Delete"}}
        """#

    @Test func parsesInfo() async {
        let transport = ScriptedTransport(body: Self.infoBody)
        let status = await provider(transport).status(of: domain("example.com"))
        #expect(status == .found(GnameBackorderStatus(
            id: "3313994", domain: "example.com", phase: .wonAtAuction, phaseText: "auction won", deletionTypeCode: 1,
            deletionType: "Delete", channel: "2", budget: "28.00", frozen: "0.00", placedAt: "2021-08-02 22:19:54",
            deletionDate: "2021-08-05")))
    }

    @Test func infoWithNumbersAndNoTexts() {
        let body = #"{"code":1,"msg":"OK","data":{"id":3313994,"ym":"example.com","zt":7,"sclx":89}}"#
        let info = GnameAnswer.parse(Array(body.utf8))?.info
        #expect(info?.id == "3313994")
        #expect(info?.phase == .dropCatchLost)
        #expect(info?.deletionType == "Jm-Pre")
    }

    @Test func phases() {
        let expected = ["in backorder", "won directly", "won at auction", "in auction", "won by others", "auction lost", "redeemed", "drop-catch lost"]
        #expect((0...7).map { GnameBackorderStatus.Phase(code: $0).description } == expected)
        #expect(GnameBackorderStatus.Phase(code: 42) == .other(42))
        #expect(GnameBackorderStatus.Phase(code: 1).isWon && !GnameBackorderStatus.Phase(code: 4).isWon)
        #expect(GnameBackorderStatus.Phase(code: 4).isFinal && !GnameBackorderStatus.Phase(code: 0).isFinal)
    }

    @Test func lookupMapsFoundAbsentAndReference() async {
        let transport = ScriptedTransport { request in
            if request.formFields["ym"] == "example.com" { return response(GnameLookupTests.infoBody) }
            return response(#"{"code":-1,"msg":"sorry, no record","data":""}"#)
        }
        let result = await provider(transport).lookup([BackorderItem(domain: domain("example.com")), BackorderItem(domain: domain("gone.com"))])
        #expect(result == .found([domain("example.com"): "3313994"]))
        #expect(transport.requests.count == 2)
    }

    @Test(arguments: [
        #"{"code":-1,"msg":"sorry, domain format incorrect","data":""}"#,
        #"{"code":-1,"msg":"not found","data":""}"#,
        #"{"code":1,"msg":"OK","data":""}"#,
        #"{"code":1,"msg":"OK","data":[]}"#,
    ])
    func absentAnswers(body: String) async {
        let result = await provider(ScriptedTransport(body: body)).lookup([BackorderItem(domain: domain("example.com"))])
        #expect(result == .found([:]))
    }

    @Test func lookupFailures() async {
        func run(_ body: String, status: Int = 200) async -> LookupResult {
            await provider(ScriptedTransport(status: status, body: body)).lookup([BackorderItem(domain: domain("example.com"))])
        }
        guard case .unavailable = await run(#"{"code":-1,"msg":"too frequent"}"#) else { Issue.record("busy"); return }
        guard case .unavailable = await run(#"{"code":-1,"msg":"system error"}"#) else { Issue.record("unknown"); return }
        guard case .unavailable = await run("oops") else { Issue.record("garbage"); return }
        guard case .unavailable = await run("", status: 502) else { Issue.record("502"); return }
        guard case .halt = await run(#"{"code":-1,"msg":"Sorry, request verification error"}"#) else { Issue.record("signature"); return }
        guard case .halt = await run(#"{"code":-1,"msg":"IP not in whitelist"}"#) else { Issue.record("ip"); return }
        let other = #"{"code":1,"msg":"OK","data":{"id":"1","ym":"other.com","zt":"0"}}"#
        guard case .unavailable = await run(other) else { Issue.record("another domain"); return }
    }

    @Test func noRecordInYourAccountIsAbsentNotAHalt() async {
        let result = await provider(ScriptedTransport(body: #"{"code":-1,"msg":"no backorder record in your account","data":""}"#))
            .lookup([BackorderItem(domain: domain("example.com"))])
        #expect(result == .found([:]))
    }

    @Test func lookupStopsAtTheFirstFailure() async {
        let transport = ScriptedTransport(status: 502, body: "")
        _ = await provider(transport).lookup([BackorderItem(domain: domain("a.com")), BackorderItem(domain: domain("b.com"))])
        #expect(transport.requests.count == 1)
    }
}

@Suite("Gname configuration")
struct GnameConfigTests {
    let base = ["GNAME_APPID": "100abc", "GNAME_APPKEY": appKey]

    @Test func unsetIsNil() throws {
        #expect(try GnameConfig.fromEnvironment([:]) == nil)
        #expect(try GnameConfig.fromEnvironment(["GNAME_CHANNEL": "2"]) == nil)
    }

    @Test func halfSetNamesTheMissingVariable() {
        #expect(throws: ConfigurationError.self) { try GnameConfig.fromEnvironment(["GNAME_APPID": "x"]) }
        do {
            _ = try GnameConfig.fromEnvironment(["GNAME_APPKEY": "k"])
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("GNAME_APPID"))
            #expect(!error.message.contains("k "))
        }
    }

    @Test func defaults() throws {
        let c = try #require(try GnameConfig.fromEnvironment(base))
        #expect(c.appID == "100abc" && c.appKey == appKey)
        #expect(c.channel == "1")
        #expect(c.endpoint == "https://api.gname.com")
        #expect(c.bulk == false)
        #expect(c.maxPrice == nil)
        #expect(c.pacing == GnameConfig.defaultPacing)
        #expect(GnameConfig.defaultPacing.concurrency == 1)
    }

    @Test func allSettings() throws {
        var env = base
        env["GNAME_CHANNEL"] = " 2 "
        env["GNAME_ENDPOINT"] = "http://127.0.0.1:9000"
        env["GNAME_BULK"] = "1"
        env["GNAME_MAX_PRICE"] = "10.50"
        env["GNAME_RATE"] = "6"
        let c = try #require(try GnameConfig.fromEnvironment(env))
        #expect(c.channel == "2")
        #expect(c.endpoint == "http://127.0.0.1:9000")
        #expect(c.bulk)
        #expect(c.maxPrice == "10.50")
        #expect(c.pacing.requestsPerMinute == 6)
    }

    @Test(arguments: [
        ("GNAME_ENDPOINT", "ftp://x"), ("GNAME_ENDPOINT", "not a url"), ("GNAME_CHANNEL", "two"), ("GNAME_CHANNEL", "0"),
        ("GNAME_BULK", "maybe"), ("GNAME_MAX_PRICE", "-1"), ("GNAME_MAX_PRICE", "1e3"), ("GNAME_MAX_PRICE", "10.505"),
        ("GNAME_MAX_PRICE", "0"), ("GNAME_THREADS", "0"),
    ])
    func badValuesNameTheVariable(name: String, value: String) {
        var env = base
        env[name] = value
        do {
            _ = try GnameConfig.fromEnvironment(env)
            Issue.record("expected an error for \(name)=\(value)")
        } catch {
            #expect(error.message.contains(name))
        }
    }
}
