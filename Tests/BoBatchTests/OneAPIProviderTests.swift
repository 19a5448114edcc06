import BoBatchHTTP
import Foundation
import Testing

@testable import BoBatch

/// A password with every character form encoding must handle, so a wrong encoder or a leak shows.
private let password = "p@ss w&rd=1+%"
private let config = OneAPIConfig(login: "bob", password: password)

private func name(_ text: String) -> DomainName { try! DomainName(normalizing: text) }

private func ispapi(_ lines: String...) -> String { "[RESPONSE]\n" + lines.joined(separator: "\n") + "\nEOF\n" }

private func answering(_ body: String, status: Int = 200, headers: [String: String] = [:]) -> ScriptedTransport {
    ScriptedTransport(status: status, body: body, headers: headers)
}

private func failing(_ kind: TransportError.Kind, _ message: String = "connection reset") -> ScriptedTransport {
    ScriptedTransport { (_: HTTPRequest) throws(TransportError) -> HTTPResponse in
        throw TransportError(kind: kind, message: message, code: 56)
    }
}

private func provider(_ transport: ScriptedTransport, config: OneAPIConfig = config, now: Date = Date(timeIntervalSince1970: 0)) -> OneAPIProvider {
    OneAPIProvider(config: config, transport: transport, now: { now })
}

/// The provider as the catalog hands it to the lane: wrapped in `RedactingProvider`.
private func wrapped(_ transport: ScriptedTransport, config: OneAPIConfig = config) -> RedactingProvider {
    RedactingProvider(provider(transport, config: config))
}

private func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

/// Every string a result carries, to check none leaks a secret.
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

private func strings(_ result: LookupResult) -> [String] {
    switch result {
    case .found(let held): Array(held.values)
    case .unavailable(let reason), .unsupported(let reason): [reason]
    case .halt(let reason, let fix): [reason, fix]
    }
}

private func leaks(_ texts: [String]) -> Bool {
    texts.contains { $0.contains(password) || $0.contains(percentEncodeQueryValue(password)) || $0.contains("w&rd") }
}

// MARK: - requests

@Suite struct OneAPIRequestTests {
    @Test func addBackorderIsAFormPostWithCredentialsInTheBody() async throws {
        let transport = answering(ispapi("CODE=200", "DESCRIPTION=Command completed successfully", "PROPERTY[APPLICATION][0]=77"))
        _ = await provider(transport).submit([BackorderItem(domain: name("Example.COM"))])

        let request = try #require(transport.requests.first)
        #expect(transport.requests.count == 1)
        #expect(request.method == .post)
        #expect(request.url == "https://coreapi.1api.net/api/call.cgi")
        #expect(!request.url.contains("s_pw"))
        #expect(request.idempotent == false)
        #expect(request.secrets == [password])
        #expect(request.headers.contains { $0.name == "Content-Type" && $0.value == "application/x-www-form-urlencoded" })
        #expect(request.headers.contains { $0.name == "User-Agent" && $0.value == BoBatchVersion.userAgent })
        let body = String(decoding: try #require(request.body), as: UTF8.self)
        #expect(body == "s_entity=54cd&s_login=bob&s_pw=p%40ss%20w%26rd%3D1%2B%25&command=AddDomainApplication&class=BACKORDER&domain=example.com")
        #expect(request.formFields == [
            "s_entity": "54cd", "s_login": "bob", "s_pw": password,
            "command": "AddDomainApplication", "class": "BACKORDER", "domain": "example.com",
        ])
        #expect(!request.formFields.keys.contains { $0.lowercased() == "new" })
    }

    @Test func testEntityAndCustomEndpointAreUsed() async throws {
        let transport = answering(ispapi("CODE=200"))
        let test = OneAPIConfig(login: "test.user", password: "test.passw0rd", entity: .test, endpoint: "http://127.0.0.1:8081/api/call.cgi")
        _ = await provider(transport, config: test).submit([BackorderItem(domain: name("john.com"))])
        let request = try #require(transport.requests.first)
        #expect(request.url == "http://127.0.0.1:8081/api/call.cgi")
        #expect(request.formFields["s_entity"] == "1234")
        #expect(request.secrets == ["test.passw0rd"])
    }

    @Test func lookupOfOneDomainUsesDomainAndOfSeveralUsesNumberedDomains() async throws {
        let one = answering(ispapi("CODE=545", "DESCRIPTION=Object not found"))
        _ = await provider(one).lookup([BackorderItem(domain: name("a.com"))])
        let single = try #require(one.requests.first)
        #expect(single.idempotent)
        #expect(single.secrets == [password])
        #expect(single.formFields == [
            "s_entity": "54cd", "s_login": "bob", "s_pw": password, "command": "QueryDomainApplicationList",
            "class": "BACKORDER", "domain": "a.com", "first": "0", "limit": "100",
        ])

        let many = answering(ispapi("CODE=200", "PROPERTY[TOTAL][0]=0"))
        _ = await provider(many).lookup([name("a.com"), name("b.net"), name("a.com")].map { BackorderItem(domain: $0) })
        let fields = try #require(many.requests.first).formFields
        #expect(fields["domain0"] == "a.com")
        #expect(fields["domain1"] == "b.net")
        #expect(fields["domain2"] == nil, "duplicates are asked once")
        #expect(fields["domain"] == nil)
        #expect(fields["first"] == "0")
        #expect(fields["limit"] == "100")
    }

    @Test func lookupWithNothingToAskSendsNothing() async {
        let transport = answering(ispapi("CODE=200"))
        #expect(await provider(transport).lookup([]) == .found([:]))
        #expect(transport.requests.isEmpty)
    }

    @Test func statusAndDeleteRequests() async throws {
        let transport = answering(ispapi("CODE=200", "PROPERTY[DOMAIN][0]=Example.com", "PROPERTY[STATUS][0]=REQUESTED"))
        let status = try await provider(transport).status(application: "12345")
        #expect(status == OneAPIApplicationStatus(
            application: "12345", domain: "example.com", status: "REQUESTED",
            properties: ["DOMAIN": ["Example.com"], "STATUS": ["REQUESTED"]]))
        try await provider(transport).delete(application: "12345")

        let requests = transport.requests
        #expect(requests.count == 2)
        #expect(requests[0].formFields["command"] == "StatusDomainApplication")
        #expect(requests[0].formFields["application"] == "12345")
        #expect(requests[1].formFields["command"] == "DeleteDomainApplication")
        #expect(requests[1].formFields["application"] == "12345")
        #expect(requests.allSatisfy { $0.idempotent && $0.secrets == [password] })
    }
}

// MARK: - parser

@Suite struct ISPAPIResponseTests {
    @Test func readsTheCanonicalShape() throws {
        let answer = try ISPAPIResponse(parsing: """
            [RESPONSE]
            code = 200
            description = Command completed successfully
            runtime = 0.043
            queuetime = 0
            property[application][0] = 6543210
            property[status][0] = REQUESTED
            EOF

            """)
        #expect(answer.code == 200)
        #expect(answer.description == "Command completed successfully")
        #expect(answer.runtime == 0.043)
        #expect(answer.queuetime == 0)
        #expect(answer.property("APPLICATION", 0) == "6543210")
        #expect(answer.property("status") == ["REQUESTED"])
        #expect(answer.reachedEOF)
    }

    @Test func toleratesCRLFCaseSpacingOrderAndJunk() throws {
        let text = "HTTP junk\r\nCODE=200\r\n\u{FEFF}[response]  \r\n\r\nthis line has no equals sign\r\n"
            + "  PROPERTY [ Application ] [ 0 ]\t=\tA1  \r\nDescription=done=really\r\nCoDe   =   541\r\n"
            + "=no key\r\neof\r\nCODE=200\r\n[RESPONSE]\r\nCODE=999\r\n"
        let answer = try ISPAPIResponse(parsing: text)
        #expect(answer.code == 541, "only the code between [RESPONSE] and EOF counts")
        #expect(answer.description == "done=really", "the first = splits, the rest is the value")
        #expect(answer.property("application") == ["A1"])
        #expect(answer.reachedEOF)
    }

    @Test func readsLoneCarriageReturnsAndAMissingEOF() throws {
        let answer = try ISPAPIResponse(parsing: "[RESPONSE]\rCODE=421\rDESCRIPTION=try again")
        #expect(answer.code == 421)
        #expect(answer.description == "try again")
        #expect(!answer.reachedEOF)
    }

    @Test func propertyArraysAreSparseUnorderedAndBounded() throws {
        let answer = try ISPAPIResponse(parsing: ispapi(
            "PROPERTY[DOMAIN][10]=c.com", "property[domain][0]=a.com", "Property[Domain][3]=b.com",
            "PROPERTY[DOMAIN][99999999999999999999]=huge.com", "PROPERTY[DOMAIN][1000000000]=toobig.com",
            "PROPERTY[DOMAIN][x]=nan.com", "PROPERTY[DOMAIN][-1]=neg.com", "PROPERTY[DOMAIN][]=none.com",
            "PROPERTY[DOMAIN]=noindex.com", "PROPERTY[][0]=noname.com", "PROPERTY[DOMAIN][3]=b2.com",
            "CODE=200"))
        #expect(answer.property("DOMAIN") == ["a.com", "b2.com", "c.com"], "index order, the later duplicate wins")
        #expect(answer.property("DOMAIN", 999_999_999) == nil)
        #expect(answer.properties["DOMAIN"]?.count == 3)
        #expect(answer.properties.count == 1)
    }

    @Test func duplicateKeysKeepTheLastValueButCodesMustAgree() throws {
        let same = try ISPAPIResponse(parsing: ispapi("CODE=200", "DESCRIPTION=first", "code = 200", "DESCRIPTION=second"))
        #expect(same.code == 200)
        #expect(same.description == "second")
        #expect(throws: ISPAPIResponse.ParseError.conflictingCode("200", "545")) {
            try ISPAPIResponse(parsing: ispapi("CODE=200", "CODE=545"))
        }
    }

    @Test(arguments: [
        ("CODE=200\nEOF", ISPAPIResponse.ParseError.noResponseSection),
        ("", .noResponseSection),
        ("[RESPONSES]\nCODE=200\nEOF", .noResponseSection),
        ("[RESPONSE]\nDESCRIPTION=Command completed successfully\nEOF", .missingCode),
        ("[RESPONSE]\nCODE=\nEOF", .missingCode),
        ("[RESPONSE]\nEOF\nCODE=200", .missingCode),
        ("[RESPONSE]\nCODE=2OO\nEOF", .malformedCode("2OO")),
        ("[RESPONSE]\nCODE=-200\nEOF", .malformedCode("-200")),
        ("[RESPONSE]\nCODE=20000\nEOF", .malformedCode("20000")),
        ("<html><body>502 Bad Gateway</body></html>", .noResponseSection),
    ])
    func rejectsAnswersWithoutAUsableCode(text: String, error: ISPAPIResponse.ParseError) {
        #expect(throws: error) { try ISPAPIResponse(parsing: text) }
    }
}

// MARK: - classification

@Suite struct OneAPIClassificationTests {
    let domain = name("example.com")

    func classify(_ lines: String...) throws -> SubmitResult {
        OneAPIClassifier.submitResult(domain: domain, answer: try ISPAPIResponse(parsing: "[RESPONSE]\n" + lines.joined(separator: "\n") + "\nEOF"))
    }

    @Test func successKeepsTheApplicationAndStatus() throws {
        #expect(try classify("CODE=200", "DESCRIPTION=Command completed successfully", "PROPERTY[APPLICATION][0]=6543210", "PROPERTY[STATUS][0]=REQUESTED")
            == .settled([domain: .accepted(reference: "6543210", message: "backorder placed as application 6543210, status REQUESTED")]))
        #expect(try classify("CODE=201", "DESCRIPTION=Command completed successfully; action pending")
            == .settled([domain: .accepted(reference: nil, message: "backorder placed")]))
    }

    @Test func notUniqueMeansAlready() throws {
        #expect(try classify("CODE=540", "DESCRIPTION=Attribute value is not unique")
            == .settled([domain: .already(reference: nil, message: "already backordered at 1API: Attribute value is not unique (1API code 540)")]))
    }

    /// 1API documents no wait for these ("client should try again"): none is invented, the lane backs off.
    @Test(arguments: [420, 421, 423])
    func temporaryCodesAreRefusedWithoutAnInventedWait(code: Int) throws {
        guard case .refused(let reason, let wait) = try classify("CODE=\(code)", "DESCRIPTION=Command failed; server busy") else {
            Issue.record("expected refused")
            return
        }
        #expect(reason.contains("(1API code \(code))"))
        #expect(wait == nil)
    }

    /// 425: the quota decays gradually and 1API's pages give no figure, so no fixed wait: the lane slows down and
    /// backs off further while 425s continue.
    @Test func usageExceededIsARefusalWithoutAFixedWait() throws {
        guard case .refused(let reason, let wait) = try classify("CODE=425", "DESCRIPTION=Usage exceeded") else {
            Issue.record("expected refused")
            return
        }
        #expect(reason.contains("Usage exceeded"))
        #expect(wait == nil)
    }

    @Test func unknownTemporaryCodeIsRefused() throws {
        guard case .refused(_, nil) = try classify("CODE=499", "DESCRIPTION=Something temporary") else {
            Issue.record("expected refused")
            return
        }
    }

    @Test(arguments: [
        (530, "ONEAPI_PASSWORD"), (531, "ONEAPI_ENTITY"), (546, "deposit"),
    ])
    func accountCodesHaltWithAFix(code: Int, fixMentions: String) throws {
        guard case .halt(let reason, let fix) = try classify("CODE=\(code)", "DESCRIPTION=Authentication failed") else {
            Issue.record("expected halt")
            return
        }
        #expect(reason.contains("1API code \(code)"))
        #expect(fix.contains(fixMentions))
    }

    @Test(arguments: [504, 541, 545, 549, 552, 599])
    func domainCodesAreRejectedWithTheDescription(code: Int) throws {
        #expect(try classify("CODE=\(code)", "DESCRIPTION=Invalid attribute value; domain not in pending delete")
            == .settled([domain: .rejected(message: "Invalid attribute value; domain not in pending delete (1API code \(code))")]))
    }

    @Test(arguments: [500, 503])
    func commandNotUnderstoodHaltsInsteadOfRejectingEveryDomain(code: Int) throws {
        guard case .halt = try classify("CODE=\(code)", "DESCRIPTION=Invalid command name") else {
            Issue.record("expected halt")
            return
        }
    }

    @Test(arguments: [0, 100, 300, 600, 999])
    func codesOutsideTheKnownClassesMayHaveLanded(code: Int) throws {
        guard case .maybeProcessed = try classify("CODE=\(code)") else {
            Issue.record("expected maybeProcessed")
            return
        }
    }
}

// MARK: - submit through a transport

@Suite struct OneAPISubmitTests {
    let item = BackorderItem(domain: name("example.com"))

    @Test func neverSentIsRefusedWithoutAWait() async {
        let result = await provider(failing(.neverSent, "could not resolve host")).submit([item])
        #expect(result == .refused(reason: "1API was not reached: could not resolve host", retryAfterSeconds: nil))
    }

    @Test(arguments: [TransportError.Kind.maybeProcessed, .bodyTooLarge])
    func lostAnswersMayHaveLanded(kind: TransportError.Kind) async {
        guard case .maybeProcessed = await provider(failing(kind)).submit([item]) else {
            Issue.record("expected maybeProcessed")
            return
        }
    }

    @Test(arguments: [
        (500, ispapi("CODE=200", "PROPERTY[APPLICATION][0]=1")), (502, "<html>Bad Gateway</html>"), (503, ""),
        (200, "<html>maintenance</html>"), (200, ""), (200, "[RESPONSE]\nDESCRIPTION=no code here\nEOF"),
        (200, ispapi("CODE=200", "CODE=541")), (408, ""),
    ])
    func unusableAnswersMayHaveLanded(status: Int, body: String) async {
        guard case .maybeProcessed = await provider(answering(body, status: status)).submit([item]) else {
            Issue.record("expected maybeProcessed for HTTP \(status) \(body.prefix(30))")
            return
        }
    }

    @Test func throttledHTTPIsRefusedWithItsRetryAfter() async {
        #expect(await provider(answering("", status: 429, headers: ["retry-after": "42"])).submit([item])
            == .refused(reason: "1API answered HTTP 429 (too many requests), Retry-After 42 s", retryAfterSeconds: 42))
    }

    @Test func tooManyRequestsWithoutRetryAfterHasNoWait() async {
        #expect(await provider(answering("", status: 429)).submit([item])
            == .refused(reason: "1API answered HTTP 429 (too many requests) without Retry-After", retryAfterSeconds: nil))
    }

    @Test func unavailableWithRetryAfterIsARefusalWithThatWait() async {
        // Refused, not "maybe processed": no lookup is spent on a request 1API says it did not serve.
        let transport = answering("<html>maintenance</html>", status: 503, headers: ["retry-after": "2"])
        #expect(await provider(transport).submit([item])
            == .refused(reason: "1API answered HTTP 503 (service unavailable), Retry-After 2 s", retryAfterSeconds: 2))
        #expect(transport.requests.count == 1)
        // An HTTP date is read against the provider's clock (here the epoch).
        let dated = answering("", status: 503, headers: ["retry-after": "Thu, 01 Jan 1970 00:00:10 GMT"])
        #expect(await provider(dated).submit([item])
            == .refused(reason: "1API answered HTTP 503 (service unavailable), Retry-After 10 s", retryAfterSeconds: 10))
    }

    @Test func unavailableWithoutRetryAfterMayHaveLanded() async {
        #expect(await provider(answering("", status: 503)).submit([item])
            == .maybeProcessed(reason: "1API answered HTTP 503 (service unavailable) without Retry-After"))
        #expect(await provider(answering("", status: 502, headers: ["retry-after": "2"])).submit([item])
            == .maybeProcessed(reason: "1API answered HTTP 502"))
    }

    /// `EOF` is the only end marker: an answer cut before it is no verdict, and nothing in it is kept.
    @Test func aCreateAnswerCutMidValueMayHaveLandedAndKeepsNoReference() async {
        let whole = ispapi("CODE=200", "DESCRIPTION=Command completed successfully", "PROPERTY[APPLICATION][0] = 10738", "PROPERTY[STATUS][0] = REQUESTED")
        let cut = String(whole[..<whole.range(of: "10738")!.lowerBound]) + "107"
        let result = await provider(answering(cut)).submit([item])
        guard case .maybeProcessed(let reason) = result else {
            Issue.record("expected maybeProcessed, got \(result)")
            return
        }
        #expect(reason.contains("cut short"))
        #expect(!reason.contains("107"), "the cut application id is not carried anywhere")
        // The same answer, whole, is accepted with the whole id.
        #expect(await provider(answering(whole)).submit([item])
            == .settled([item.domain: .accepted(reference: "10738", message: "backorder placed as application 10738, status REQUESTED")]))
    }

    @Test(arguments: [
        "[RESPONSE]\nCODE=540\nDESCRIPTION=Attribute value is not unique\n",  // would be "already"
        "[RESPONSE]\nCODE=541\nDESCRIPTION=Invalid attribute value\n",  // would be rejected
        "[RESPONSE]\nCODE=421\nDESCRIPTION=Command failed due to server error. Client should try again\n",  // would be refused
        "[RESPONSE]\r\nCODE=530\r\nDESCRIPTION=Authentication failed\r\nEO",  // would halt
        "[RESPONSE]\nCODE=200\nDESCRIPTION=Command completed successfully\n",
    ])
    func anyCreateAnswerWithoutEOFMayHaveLanded(body: String) async {
        guard case .maybeProcessed(let reason) = await provider(answering(body)).submit([item]) else {
            Issue.record("expected maybeProcessed for \(body.debugDescription)")
            return
        }
        #expect(reason.contains("cut short"))
    }

    @Test(arguments: [301, 401, 403, 404, 405])
    func aWrongEndpointHalts(status: Int) async {
        guard case .halt(_, let fix) = await provider(answering("nope", status: status)).submit([item]) else {
            Issue.record("expected halt")
            return
        }
        #expect(fix.contains("ONEAPI_ENDPOINT"))
    }

    @Test func answersEchoingThePasswordAreRedacted() async {
        let echo = answering(ispapi("CODE=530", "DESCRIPTION=Authentication failed for bob with \(password) / \(percentEncodeQueryValue(password))"))
        let halted = await wrapped(echo).submit([item])
        #expect(!leaks(strings(halted)))
        #expect(strings(halted).joined().contains("***"))

        let transport = failing(.maybeProcessed, "reset while sending s_pw=\(password)")
        #expect(!leaks(strings(await wrapped(transport).submit([item]))))

        let accepted = answering(ispapi("CODE=200", "PROPERTY[APPLICATION][0]=\(password)"))
        #expect(!leaks(strings(await wrapped(accepted).submit([item]))))

        let lookup = answering(ispapi("CODE=531", "DESCRIPTION=denied for \(password)"))
        #expect(!leaks(strings(await wrapped(lookup).lookup([item]))))
    }

    @Test func messagesAreOneBoundedLine() async {
        let long = String(repeating: "x", count: 5000)
        let result = await wrapped(answering(ispapi("CODE=541", "DESCRIPTION=bad\u{7}value \(long)"))).submit([item])
        guard case .settled(let verdicts) = result, case .rejected(let message) = verdicts[item.domain] else {
            Issue.record("expected rejected")
            return
        }
        #expect(message.count <= 501)
        #expect(!message.unicodeScalars.contains { CharacterSet.controlCharacters.contains($0) })
    }

    @Test func moreThanOneItemIsNotSent() async {
        let transport = answering(ispapi("CODE=200"))
        guard case .halt(let reason, _) = await wrapped(transport).submit([item, BackorderItem(domain: name("other.com"))]) else {
            Issue.record("expected halt: two domains for one must never be sent")
            return
        }
        #expect(reason.contains("nothing was sent"))
        #expect(transport.requests.isEmpty)
        #expect(await wrapped(transport).submit([]) == .settled([:]))
        #expect(await provider(transport).submit([]) == .settled([:]))
    }

    @Test func endpointDescriptionCarriesNoSecret() {
        let leaky = OneAPIConfig(login: "bob", password: password, endpoint: "https://bob:\(percentEncodeQueryValue(password))@coreapi.1api.net/api/call.cgi?s_pw=x")
        let text = OneAPIProvider(config: leaky, transport: answering("")).endpointDescription
        #expect(text == "https://coreapi.1api.net/api/call.cgi (live, entity 54cd)")
    }
}

// MARK: - cutoff

@Suite struct OneAPICutoffTests {
    let drop = utc("2025-10-27T18:00:00Z")

    func item(drop: Date?) -> BackorderItem { BackorderItem(domain: name("example.com"), attributes: DomainAttributes(dropTime: drop)) }

    @Test func skipsOnlyAfterTheCutoff() {
        let provider = provider(answering(""))
        #expect(provider.skipReason(for: item(drop: drop), now: utc("2025-10-27T14:59:59Z")) == nil)
        #expect(provider.skipReason(for: item(drop: drop), now: utc("2025-10-27T15:00:00Z")) == nil, "exactly three hours before is in time")
        #expect(provider.skipReason(for: item(drop: drop), now: utc("2025-10-27T15:00:00Z").addingTimeInterval(0.001))
            == "past 1API's cutoff: backorders must be placed 3 hours before the deletion batch (drop 2025-10-27 18:00 UTC, cutoff 15:00 UTC)")
        #expect(provider.skipReason(for: item(drop: drop), now: utc("2025-10-28T00:00:00Z")) != nil, "after the drop too")
        #expect(provider.skipReason(for: item(drop: nil), now: utc("2030-01-01T00:00:00Z")) == nil, "no drop time, no policy")
    }

    @Test func cutoffOnTheDayBeforeShowsItsDate() {
        let cutoff = OneAPICutoff(hours: 4.5)
        #expect(cutoff.skipReason(dropTime: utc("2025-10-27T02:00:00Z"), now: utc("2025-10-27T00:00:00Z"))
            == "past 1API's cutoff: backorders must be placed 4.5 hours before the deletion batch (drop 2025-10-27 02:00 UTC, cutoff 2025-10-26 21:30 UTC)")
        #expect(OneAPICutoff.hoursText(1) == "1 hour")
    }

    @Test func submitPastTheCutoffSendsNothing() async {
        let transport = answering(ispapi("CODE=200"))
        let late = provider(transport, now: utc("2025-10-27T16:00:00Z"))
        guard case .settled(let verdicts) = await late.submit([item(drop: drop)]), case .skipped(let message) = verdicts[name("example.com")] else {
            Issue.record("expected skipped")
            return
        }
        #expect(message.hasPrefix("past 1API's cutoff"))
        #expect(transport.requests.isEmpty)

        let early = provider(transport, now: utc("2025-10-27T12:00:00Z"))
        guard case .settled(let placed) = await early.submit([item(drop: drop)]), case .accepted = placed[name("example.com")] else {
            Issue.record("expected accepted")
            return
        }
        #expect(transport.requests.count == 1)
    }

    @Test func configuredCutoffHoursApply() {
        let wide = provider(answering(""), config: OneAPIConfig(login: "bob", password: "pw", cutoffHours: 6))
        #expect(wide.skipReason(for: item(drop: drop), now: utc("2025-10-27T12:30:00Z"))?.contains("6 hours before") == true)
    }
}

// MARK: - lookup

@Suite struct OneAPILookupTests {
    let a = name("a.com"), b = name("b.net"), c = name("c.org")

    func lookup(_ asked: [DomainName], _ body: String, status: Int = 200) async -> LookupResult {
        await provider(answering(body, status: status)).lookup(asked.map { BackorderItem(domain: $0) })
    }

    @Test func readsParallelArraysIntoFoundApplications() async {
        let body = ispapi(
            "CODE=200", "DESCRIPTION=Command completed successfully",
            "PROPERTY[APPLICATION][1]=222", "PROPERTY[DOMAIN][1]=B.NET.", "PROPERTY[STATUS][1]=REQUESTED",
            "PROPERTY[APPLICATION][0]=111", "PROPERTY[DOMAIN][0]=a.com", "PROPERTY[STATUS][0]=REQUESTED",
            "PROPERTY[APPLICATION][2]=333", "PROPERTY[DOMAIN][2]=unasked.com",
            "PROPERTY[TOTAL][0]=3", "PROPERTY[COUNT][0]=3")
        #expect(await lookup([a, b, c], body) == .found([a: "111", b: "222"]))
    }

    @Test func finishedApplicationsDoNotCount() async {
        let body = ispapi(
            "CODE=200", "PROPERTY[APPLICATION][0]=old", "PROPERTY[DOMAIN][0]=a.com", "PROPERTY[STATUS][0]=failed",
            "PROPERTY[APPLICATION][1]=new", "PROPERTY[DOMAIN][1]=a.com", "PROPERTY[STATUS][1]=REQUESTED",
            "PROPERTY[APPLICATION][2]=gone", "PROPERTY[DOMAIN][2]=b.net", "PROPERTY[STATUS][2]=CANCELLED",
            "PROPERTY[TOTAL][0]=3")
        #expect(await lookup([a, b], body) == .found([a: "new"]))
    }

    @Test func notFoundAndEmptyListsProveAbsence() async {
        #expect(await lookup([a], ispapi("CODE=545", "DESCRIPTION=Object not found")) == .found([:]))
        #expect(await lookup([a, b], ispapi("CODE=200", "PROPERTY[TOTAL][0]=0")) == .found([:]))
        #expect(await lookup([a], ispapi("CODE=200")) == .found([:]))
    }

    @Test func aListCutShortOrUnattributedProvesNothing() async {
        let cut = ispapi("CODE=200", "PROPERTY[APPLICATION][0]=111", "PROPERTY[DOMAIN][0]=a.com", "PROPERTY[TOTAL][0]=250")
        guard case .unavailable(let reason) = await lookup([a, b], cut) else {
            Issue.record("expected unavailable")
            return
        }
        #expect(reason.contains("cut short"))
        #expect(await lookup([a], cut) == .found([a: "111"]), "everything asked was found: nothing left to prove")

        let unattributed = ispapi("CODE=200", "PROPERTY[APPLICATION][0]=111", "PROPERTY[TOTAL][0]=1")
        guard case .unavailable = await lookup([a], unattributed) else {
            Issue.record("expected unavailable")
            return
        }
    }

    @Test(arguments: [530, 531, 546])
    func accountCodesHalt(code: Int) async {
        guard case .halt = await lookup([a], ispapi("CODE=\(code)", "DESCRIPTION=Authentication failed")) else {
            Issue.record("expected halt")
            return
        }
    }

    @Test(arguments: [
        (200, ispapi("CODE=421", "DESCRIPTION=busy")), (200, ispapi("CODE=425")), (200, ispapi("CODE=541")),
        (200, "garbage"), (200, ispapi("DESCRIPTION=no code")), (500, ispapi("CODE=200")), (429, ""),
    ])
    func everythingElseLeavesTheLookupUnavailable(status: Int, body: String) async {
        guard case .unavailable = await lookup([a], body, status: status) else {
            Issue.record("expected unavailable for HTTP \(status) \(body.prefix(30))")
            return
        }
    }

    @Test func aLookupRefusedWithRetryAfterIsUnavailable() async {
        #expect(await provider(answering("", status: 503, headers: ["retry-after": "2"])).lookup([BackorderItem(domain: a)])
            == .unavailable(reason: "1API answered HTTP 503 (service unavailable), Retry-After 2 s"))
    }

    @Test(arguments: [
        // Would prove absence if it were complete.
        "[RESPONSE]\nCODE=200\nDESCRIPTION=Command completed successfully\nPROPERTY[TOTAL][0]=0\n",
        "[RESPONSE]\nCODE=545\nDESCRIPTION=Object not found\n",
        // Would find a.com under a cut application id.
        "[RESPONSE]\nCODE=200\nPROPERTY[DOMAIN][0]=a.com\nPROPERTY[TOTAL][0]=1\nPROPERTY[APPLICATION][0]=107",
    ])
    func aListCutBeforeEOFIsUnavailable(body: String) async {
        guard case .unavailable(let reason) = await lookup([a], body) else {
            Issue.record("expected unavailable")
            return
        }
        #expect(reason.contains("cut short"))
    }

    @Test(arguments: [TransportError.Kind.neverSent, .maybeProcessed, .bodyTooLarge])
    func transportFailuresLeaveTheLookupUnavailable(kind: TransportError.Kind) async {
        guard case .unavailable = await provider(failing(kind)).lookup([BackorderItem(domain: a)]) else {
            Issue.record("expected unavailable")
            return
        }
    }
}

// MARK: - status and delete helpers

@Suite struct OneAPIHelperTests {
    @Test func invalidApplicationIDsAreNotSent() async {
        let transport = answering(ispapi("CODE=200"))
        for id in ["", "  ", "12 34", "12\n34"] {
            await #expect(throws: OneAPIError.self) { try await provider(transport).status(application: id) }
            await #expect(throws: OneAPIError.self) { try await provider(transport).delete(application: id) }
        }
        #expect(transport.requests.isEmpty)
    }

    @Test func errorsCarryTheCodeAndNoSecret() async {
        do {
            try await provider(answering(ispapi("CODE=545", "DESCRIPTION=Object not found (\(password))"))).delete(application: "9")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .code(545))
            #expect(!leaks([error.message]))
        }
        do {
            _ = try await provider(failing(.neverSent)).status(application: "9")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .transport(.neverSent))
        }
        do {
            _ = try await provider(answering("<html/>")).status(application: "9")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidAnswer)
        }
        do {
            _ = try await provider(answering("", status: 503)).status(application: "9")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .http(503))
        }
        do {
            _ = try await provider(answering("", status: 503, headers: ["retry-after": "2"])).status(application: "9")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .http(503))
            #expect(error.message == "1API answered HTTP 503 (service unavailable), Retry-After 2 s")
        }
    }

    @Test func aStatusCutBeforeEOFIsNoAnswer() async {
        let cut = "[RESPONSE]\nCODE=200\nDESCRIPTION=Command completed successfully\nPROPERTY[DOMAIN][0]=example.com\nPROPERTY[STATUS][0]=REQ"
        do {
            _ = try await provider(answering(cut)).status(application: "9")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalidAnswer)
            #expect(error.message.contains("cut short"))
        }
        await #expect(throws: OneAPIError(kind: .invalidAnswer, message: "1API's answer was cut short (no EOF line after no description (1API code 545))")) {
            try await provider(answering("[RESPONSE]\nCODE=545\n")).delete(application: "9")
        }
    }
}

// MARK: - configuration

@Suite struct OneAPIConfigTests {
    @Test func unsetMeansNotConfigured() throws {
        #expect(try OneAPIConfig.fromEnvironment([:]) == nil)
        #expect(try OneAPIConfig.fromEnvironment(["ONEAPI_LOGIN": "  ", "ONEAPI_CUTOFF_HOURS": "4", "OTHER": "x"]) == nil)
    }

    @Test func defaults() throws {
        let config = try #require(try OneAPIConfig.fromEnvironment(["ONEAPI_LOGIN": "bob", "ONEAPI_PASSWORD": password]))
        #expect(config.login == "bob")
        #expect(config.password == password)
        #expect(config.entity == .live)
        #expect(config.endpoint == "https://coreapi.1api.net/api/call.cgi")
        #expect(config.cutoffHours == 3)
        #expect(OneAPIConfig.defaultPacing.concurrency == 1)
        #expect(OneAPIConfig.defaultPacing.requestsPerMinute <= 60)
    }

    @Test func everySettingIsRead() throws {
        let config = try #require(try OneAPIConfig.fromEnvironment([
            "ONEAPI_LOGIN": "test.user", "ONEAPI_PASSWORD": "test.passw0rd", "ONEAPI_ENTITY": "1234",
            "ONEAPI_ENDPOINT": "http://127.0.0.1:9/api/call.cgi", "ONEAPI_CUTOFF_HOURS": "4.5",
        ]))
        #expect(config.entity == .test)
        #expect(config.endpoint == "http://127.0.0.1:9/api/call.cgi")
        #expect(config.cutoffHours == 4.5)
        #expect(try OneAPIConfig.fromEnvironment(["ONEAPI_LOGIN": "a", "ONEAPI_PASSWORD": "b", "ONEAPI_ENTITY": "54CD"])?.entity == .live)
    }

    @Test(arguments: [
        (["ONEAPI_LOGIN": "bob"], "ONEAPI_PASSWORD"),
        (["ONEAPI_PASSWORD": password], "ONEAPI_LOGIN"),
        (["ONEAPI_ENTITY": "1234"], "ONEAPI_LOGIN"),
        (["ONEAPI_LOGIN": "bob", "ONEAPI_PASSWORD": password, "ONEAPI_ENTITY": "54ce"], "ONEAPI_ENTITY"),
        (["ONEAPI_LOGIN": "bob", "ONEAPI_PASSWORD": password, "ONEAPI_ENTITY": "live"], "ONEAPI_ENTITY"),
        (["ONEAPI_LOGIN": "bob", "ONEAPI_PASSWORD": password, "ONEAPI_CUTOFF_HOURS": "three"], "ONEAPI_CUTOFF_HOURS"),
        (["ONEAPI_LOGIN": "bob", "ONEAPI_PASSWORD": password, "ONEAPI_CUTOFF_HOURS": "-1"], "ONEAPI_CUTOFF_HOURS"),
        (["ONEAPI_LOGIN": "bob", "ONEAPI_PASSWORD": password, "ONEAPI_CUTOFF_HOURS": "nan"], "ONEAPI_CUTOFF_HOURS"),
        (["ONEAPI_LOGIN": "bob", "ONEAPI_PASSWORD": password, "ONEAPI_ENDPOINT": "ftp://x/y"], "ONEAPI_ENDPOINT"),
    ])
    func mistakesNameTheVariable(env: [String: String], variable: String) {
        do {
            _ = try OneAPIConfig.fromEnvironment(env)
            Issue.record("expected an error naming \(variable)")
        } catch {
            #expect(error.message.contains(variable))
            #expect(!error.message.contains(password))
        }
    }
}
