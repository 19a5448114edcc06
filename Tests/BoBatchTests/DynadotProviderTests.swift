@testable import BoBatch
import BoBatchHTTP
import Foundation
import Testing

@Suite struct DynadotProviderTests {
    static let key = "s3cr3t-key+/="
    let a = DomainName(validatedASCII: "a.com")
    let b = DomainName(validatedASCII: "b.net")

    func provider(_ transport: ScriptedTransport) -> DynadotProvider {
        DynadotProvider(config: DynadotConfig(apiKey: Self.key, endpoint: "https://api.example/api3.xml"), transport: transport,
                        now: { Date(timeIntervalSince1970: 1_761_523_200) })
    }

    static func ok(_ root: String, codeTag: String = "SuccessCode", code: String = "0") -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><\(root)Response><\(root)Header><\(codeTag)>\(code)</\(codeTag)><Status>success</Status></\(root)Header></\(root)Response>"
    }

    static func error(_ text: String, code: String = "-1") -> String {
        "<AddBackorderRequestResponse><AddBackorderRequestHeader><SuccessCode>\(code)</SuccessCode><Status>error</Status><Error>\(text)</Error></AddBackorderRequestHeader></AddBackorderRequestResponse>"
    }

    @Test func buildsOneGETWithTheCommaSeparatedListAndKeepsTheKeySecret() async {
        let transport = ScriptedTransport(body: Self.ok("AddBackorderRequest"))
        let result = await provider(transport).submit([BackorderItem(domain: a), BackorderItem(domain: b)])
        #expect(result == .settled([a: .accepted(reference: nil, message: "backorder request added"), b: .accepted(reference: nil, message: "backorder request added")]))
        let request = transport.requests[0]
        #expect(request.method == .get)
        #expect(request.url.contains("command=add_backorder_request"))
        #expect(request.url.contains("domain=a.com,b.net"))
        #expect(request.queryFields["key"] == Self.key)
        #expect(request.idempotent == false)
        #expect(request.secrets == [Self.key])
    }

    @Test func acceptsResponseCodeHeadersAndNumbersAsText() {
        let resp = HTTPResponse(status: 200, body: Array(Self.ok("AddBackorderRequest", codeTag: "ResponseCode", code: " 0 ").utf8))
        #expect(DynadotClassifier.classifySubmit(resp, domains: [a]) == .settled([a: .accepted(reference: nil, message: "backorder request added")]))
    }

    @Test func alreadyOnTheListIsAlreadyForOneDomain() {
        let r = HTTPResponse(status: 200, body: Array(Self.error("a.com is already on your backorder request list").utf8))
        #expect(DynadotClassifier.classifySubmit(r, domains: [a]) == .settled([a: .already(reference: nil, message: "already on the Dynadot backorder request list")]))
    }

    @Test func aDomainErrorInABatchIsABatchFailureNotAGuess() {
        let r = HTTPResponse(status: 200, body: Array(Self.error("could not find backorder fot this domain").utf8))
        guard case .batchFailed(_, let alone) = DynadotClassifier.classifySubmit(r, domains: [a, b]) else {
            Issue.record("expected batchFailed")
            return
        }
        #expect(alone == .rejected(message: "could not find backorder fot this domain"))
        #expect(DynadotClassifier.classifySubmit(r, domains: [a]) == .settled([a: .rejected(message: "could not find backorder fot this domain")]))
    }

    @Test func accountErrorsHalt() {
        let generic = "<Response><ResponseHeader><ResponseCode>-1</ResponseCode><Error>invalid key</Error></ResponseHeader></Response>"
        for body in [generic, Self.error("your ip is not in the whitelist"), Self.error("insufficient balance")] {
            guard case .halt(_, let fix) = DynadotClassifier.classifySubmit(HTTPResponse(status: 200, body: Array(body.utf8)), domains: [a, b]) else {
                Issue.record("expected halt for \(body)")
                continue
            }
            #expect(!fix.isEmpty)
        }
    }

    @Test func busyIsARefusal() {
        for text in ["system_busy", "another request is being processed"] {
            let r = HTTPResponse(status: 200, body: Array(Self.error(text).utf8))
            #expect(DynadotClassifier.classifySubmit(r, domains: [a, b]) == .refused(reason: "Dynadot is busy: \(text)", retryAfterSeconds: nil))
        }
    }

    @Test func unreadableOrLostAnswersAreMaybeProcessed() {
        for body in ["", "<html><body>502 Bad Gateway</body></html", "<AddBackorderRequestResponse><AddBackorder", "{\"json\":1}"] {
            let r = HTTPResponse(status: 200, body: Array(body.utf8))
            guard case .maybeProcessed = DynadotClassifier.classifySubmit(r, domains: [a]) else {
                Issue.record("expected maybeProcessed for \(body)")
                continue
            }
        }
        guard case .maybeProcessed = DynadotClassifier.classifySubmit(HTTPResponse(status: 502, body: []), domains: [a]) else {
            Issue.record("expected maybeProcessed for 502")
            return
        }
        #expect(DynadotClassifier.classifySubmit(HTTPResponse(status: 429, headers: ["retry-after": "9"], body: []), domains: [a])
            == .refused(reason: "Dynadot answered HTTP 429 (too many requests), Retry-After 9 s", retryAfterSeconds: 9))
        #expect(DynadotClassifier.transportFailure(TransportError(kind: .neverSent, message: "refused", code: 7)) == .refused(reason: "Dynadot was not reached: refused", retryAfterSeconds: nil))
        #expect(DynadotClassifier.transportFailure(TransportError(kind: .maybeProcessed, message: "timeout", code: 28)) == .maybeProcessed(reason: "no answer from Dynadot: timeout"))
    }

    @Test func unavailableWithRetryAfterIsARefusalWithThatWait() async {
        let transport = ScriptedTransport(status: 503, body: "<html>maintenance</html>", headers: ["retry-after": "2"])
        #expect(await provider(transport).submit([BackorderItem(domain: a), BackorderItem(domain: b)])
            == .refused(reason: "Dynadot answered HTTP 503 (service unavailable), Retry-After 2 s", retryAfterSeconds: 2))
        // An HTTP date, against the provider's clock (1_761_523_200 is Mon, 27 Oct 2025 00:00:00 GMT).
        let dated = ScriptedTransport(status: 503, body: "", headers: ["retry-after": "Mon, 27 Oct 2025 00:01:30 GMT"])
        #expect(await provider(dated).submit([BackorderItem(domain: a)])
            == .refused(reason: "Dynadot answered HTTP 503 (service unavailable), Retry-After 90 s", retryAfterSeconds: 90))
    }

    @Test func tooManyRequestsWithoutRetryAfterHasNoWait() async {
        #expect(await provider(ScriptedTransport(status: 429, body: "")).submit([BackorderItem(domain: a)])
            == .refused(reason: "Dynadot answered HTTP 429 (too many requests) without Retry-After", retryAfterSeconds: nil))
    }

    @Test func unavailableWithoutRetryAfterMayHaveLanded() async {
        #expect(await provider(ScriptedTransport(status: 503, body: "")).submit([BackorderItem(domain: a)])
            == .maybeProcessed(reason: "Dynadot answered HTTP 503 (service unavailable) without Retry-After"))
        for status in [500, 502, 504] {
            #expect(await provider(ScriptedTransport(status: status, body: "", headers: ["retry-after": "2"])).submit([BackorderItem(domain: a)])
                == .maybeProcessed(reason: "Dynadot answered HTTP \(status)"), "only 429 and 503 say nothing was done")
        }
    }

    @Test func accessDeniedStillHaltsWithDynadotsFix() async {
        for status in [401, 403] {
            guard case .halt(_, let fix) = await provider(ScriptedTransport(status: status, body: "")).submit([BackorderItem(domain: a)]) else {
                Issue.record("expected halt for \(status)")
                continue
            }
            #expect(fix.contains("DYNADOT_API_KEY"))
        }
    }

    @Test func aLookupRefusedWithRetryAfterIsUnavailable() async {
        let transport = ScriptedTransport(status: 503, body: "", headers: ["retry-after": "2"])
        #expect(await provider(transport).lookup([BackorderItem(domain: a)])
            == .unavailable(reason: "backorder_request_list: Dynadot answered HTTP 503 (service unavailable), Retry-After 2 s"))
        guard case .unavailable = await provider(ScriptedTransport(status: 429, body: "")).lookup([BackorderItem(domain: a)]) else {
            Issue.record("expected unavailable for 429")
            return
        }
    }

    @Test func hostileXMLIsNeverAVerdict() {
        let laughs = """
            <?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
            <AddBackorderRequestResponse><AddBackorderRequestHeader><SuccessCode>0</SuccessCode><Error>&lol2;</Error></AddBackorderRequestHeader></AddBackorderRequestResponse>
            """
        guard case .maybeProcessed = DynadotClassifier.classifySubmit(HTTPResponse(status: 200, body: Array(laughs.utf8)), domains: [a]) else {
            Issue.record("a DOCTYPE must not be trusted")
            return
        }
    }

    @Test func lookupReadsBothDomainNameAndDomainFields() async {
        let body = """
            <BackorderRequestListResponse><BackorderRequestListHeader><SuccessCode>0</SuccessCode><Status>success</Status></BackorderRequestListHeader>
            <BackorderRequestListContent><BackorderRequestList>
            <BackorderRequest><DomainName>A.COM</DomainName><CutoffTime>1403914140000</CutoffTime><BackorderRequestStatus>Active</BackorderRequestStatus></BackorderRequest>
            <BackorderRequest><Domain>other.org</Domain><CutoffTime>1403914140000</CutoffTime><BackorderRequestStatus>Active</BackorderRequestStatus></BackorderRequest>
            </BackorderRequestList></BackorderRequestListContent></BackorderRequestListResponse>
            """
        let transport = ScriptedTransport(body: body)
        let result = await provider(transport).lookup([BackorderItem(domain: a), BackorderItem(domain: b)])
        #expect(result == .found([a: ""]))
        let q = transport.requests[0].queryFields
        #expect(q["command"] == "backorder_request_list")
        #expect(q["startDate"]?.count == 10)
        #expect(transport.requests[0].idempotent)
    }

    @Test func isProcessingYesAndNo() async {
        let yes = "<Response><ResponseHeader><ResponseCode>0</ResponseCode><ResponseMsg>yes</ResponseMsg></ResponseHeader></Response>"
        #expect(await provider(ScriptedTransport(body: yes)).accountBusy() == .busy)
        #expect(await provider(ScriptedTransport(body: yes.replacingOccurrences(of: "yes", with: "no"))).accountBusy() == .idle)
        guard case .unavailable = await provider(ScriptedTransport(body: "garbage")).accountBusy() else {
            Issue.record("garbage must not read as idle")
            return
        }
    }

    @Test func configFromEnvironment() throws {
        #expect(try DynadotConfig.fromEnvironment([:]) == nil)
        let c = try #require(try DynadotConfig.fromEnvironment(["DYNADOT_API_KEY": "k", "DYNADOT_ACCOUNT": "bulk"]))
        #expect(c.tier.pacing == Pacing(concurrency: 5, requestsPerMinute: 600))
        #expect(throws: ConfigurationError.self) { try DynadotConfig.fromEnvironment(["DYNADOT_API_KEY": "k", "DYNADOT_ACCOUNT": "gold"]) }
        #expect(throws: ConfigurationError.self) { try DynadotConfig.fromEnvironment(["DYNADOT_API_KEY": "k", "DYNADOT_ENDPOINT": "ftp://x"]) }
    }
}
