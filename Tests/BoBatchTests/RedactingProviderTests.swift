import BoBatchHTTP
import Foundation
import Testing

@testable import BoBatch

private let secret = "s3cr3t pa$$/w0rd"
private let encoded = percentEncodeQueryValue(secret)
private let example = DomainName(validatedASCII: "example.com")
private let other = DomainName(validatedASCII: "other.net")

/// A provider that answers whatever it is told to, carrying the secret in every string, and counts its calls.
private final class EchoProvider: Provider, @unchecked Sendable {
    let id = ProviderID.yay
    let maxBatch: Int
    let secrets = [secret]
    var submitResult: SubmitResult = .settled([:])
    var lookupResult: LookupResult = .found([:])
    var busy: BusyState = .idle
    private(set) var submits = 0

    init(maxBatch: Int = 2) { self.maxBatch = maxBatch }

    var endpointDescription: String { "https://api.example/\(secret)" }
    var checksAccountBusy: Bool { true }
    func submit(_ items: [BackorderItem]) async -> SubmitResult {
        submits += 1
        return submitResult
    }
    func lookup(_ items: [BackorderItem]) async -> LookupResult { lookupResult }
    func accountBusy() async -> BusyState { busy }
    func skipReason(for item: BackorderItem, now: Date) -> String? { "no \(encoded)\nhere" }
}

private let dirty = "said \(secret) and \(encoded)\u{7}\r\nthen\ttabs"
private let clean = "said *** and *** then tabs"

@Suite("RedactingProvider")
struct RedactingProviderTests {
    @Test func everySubmitStringIsCleaned() async {
        let base = EchoProvider()
        let wrapper = RedactingProvider(base)
        let cases: [(SubmitResult, SubmitResult)] = [
            (.settled([example: .accepted(reference: "ref \(secret)", message: dirty), other: .already(reference: nil, message: dirty)]),
             .settled([example: .accepted(reference: "ref ***", message: clean), other: .already(reference: nil, message: clean)])),
            (.settled([example: .rejected(message: dirty), other: .skipped(message: dirty)]),
             .settled([example: .rejected(message: clean), other: .skipped(message: clean)])),
            (.refused(reason: dirty, retryAfterSeconds: 3), .refused(reason: clean, retryAfterSeconds: 3)),
            (.maybeProcessed(reason: dirty), .maybeProcessed(reason: clean)),
            (.batchFailed(reason: dirty, verdictIfAlone: .rejected(message: dirty)), .batchFailed(reason: clean, verdictIfAlone: .rejected(message: clean))),
            (.halt(reason: dirty, fix: dirty), .halt(reason: clean, fix: clean)),
        ]
        for (given, expected) in cases {
            base.submitResult = given
            #expect(await wrapper.submit([BackorderItem(domain: example)]) == expected)
        }
    }

    @Test func everyLookupAndBusyStringIsCleaned() async {
        let base = EchoProvider()
        let wrapper = RedactingProvider(base)
        let cases: [(LookupResult, LookupResult)] = [
            (.found([example: "ref \(encoded)", other: ""]), .found([example: "ref ***", other: ""])),
            (.unavailable(reason: dirty), .unavailable(reason: clean)),
            (.unsupported(reason: dirty), .unsupported(reason: clean)),
            (.halt(reason: dirty, fix: dirty), .halt(reason: clean, fix: clean)),
        ]
        for (given, expected) in cases {
            base.lookupResult = given
            #expect(await wrapper.lookup([BackorderItem(domain: example)]) == expected)
        }
        base.busy = .unavailable(reason: dirty)
        #expect(await wrapper.accountBusy() == .unavailable(reason: clean))
        base.busy = .busy
        #expect(await wrapper.accountBusy() == .busy)
        #expect(wrapper.checksAccountBusy)
        #expect(wrapper.skipReason(for: BackorderItem(domain: example), now: Date()) == "no *** here")
        #expect(wrapper.endpointDescription == "https://api.example/***")
        #expect(wrapper.secrets == [secret])
    }

    /// A provider may echo a secret encoded otherwise than we sent it: lower-case percent hex (`%2f`), a space
    /// as `+` (form encoding), a `/` escaped in JSON. Each form is redacted, and the plain-text shortcut agrees.
    @Test(arguments: [
        "s3cr3t%20pa%24%24%2fw0rd", "s3cr3t+pa%24%24%2Fw0rd", "s3cr3t pa$$\\/w0rd", "s3cr3t%20pa%24%24%2Fw0rd",
    ])
    func otherEncodingsOfASecretAreRedactedToo(form: String) {
        let text = "the API said: bad key \(form) (code 401)"
        #expect(ProviderText.clean(text, secrets: [secret]) == "the API said: bad key *** (code 401)")
        #expect(redact(form, secrets: [secret]) == "***")
    }

    @Test func messagesAreOneBoundedLineAndCleaningTwiceChangesNothing() async {
        let base = EchoProvider()
        base.submitResult = .maybeProcessed(reason: String(repeating: "x\u{0}", count: 2000))
        let once = await RedactingProvider(base).submit([BackorderItem(domain: example)])
        guard case .maybeProcessed(let reason) = once else { Issue.record("\(once)"); return }
        #expect(reason.count == ProviderText.maxLength + 1)
        #expect(reason.hasSuffix("…"))
        #expect(!reason.unicodeScalars.contains { CharacterSet.controlCharacters.contains($0) })
        #expect(ProviderText.clean(reason, secrets: [secret]) == reason)
        // Wrapping a wrapped provider does not wrap again.
        let twice = RedactingProvider(RedactingProvider(base))
        #expect(twice.base is EchoProvider)
    }

    /// `clean` returns plain text as it is without rebuilding it; that shortcut must never differ from the rebuild.
    @Test func theShortcutForPlainTextAgreesWithTheFullCleaning() {
        let secrets = [secret, "k3y"]
        var samples = [
            "", " ", "a", "backorder request added", "back-order created (Created)", " leading", "trailing ", "two  spaces",
            "tab\there", "line\nbreak", "del\u{7F}", "nul\u{0}", "caf\u{E9}", "no\u{A0}break", "k3y", "a k3y b", "xk3yx",
            encoded, "pre\(encoded)post", "s3cr3t", String(repeating: "a", count: ProviderText.maxLength),
            String(repeating: "a", count: ProviderText.maxLength + 1), "k3\ny", "ok: 0f8e2a1c-1111-4222-8333-944455556666",
        ]
        // Every string of up to three characters from an alphabet of the awkward cases, around a secret too.
        let alphabet = Array("a k3y%\t\n~\u{7F}\u{0}é").map(String.init)
        var short = [""]
        for _ in 0..<3 { short += short.flatMap { prefix in alphabet.map { prefix + $0 } } }
        samples += Set(short).flatMap { [$0, $0 + "k3y", "k3" + $0 + "y", $0 + encoded] }
        for text in samples {
            #expect(ProviderText.clean(text, secrets: secrets) == ProviderText.rebuild(text, secrets: secrets), "\(text.debugDescription)")
            if ProviderText.isCleanPlainLine(text, secrets: secrets) {
                #expect(ProviderText.rebuild(text, secrets: secrets) == text, "\(text.debugDescription)")
            }
        }
        #expect(ProviderText.isCleanPlainLine("backorder request added", secrets: secrets))
        #expect(!ProviderText.isCleanPlainLine("a k3y b", secrets: secrets))
        #expect(!ProviderText.isCleanPlainLine("pre\(encoded)post", secrets: secrets))
    }

    @Test func moreThanMaxBatchHaltsWithoutReachingTheProvider() async {
        let base = EchoProvider(maxBatch: 2)
        let wrapper = RedactingProvider(base)
        let three = ["a.com", "b.com", "c.com"].map { BackorderItem(domain: DomainName(validatedASCII: $0)) }
        guard case .halt(let reason, let fix) = await wrapper.submit(three) else {
            Issue.record("expected a halt")
            return
        }
        #expect(reason == "internal error: yay takes at most 2 domain(s) per create, 3 were given; nothing was sent")
        #expect(fix.contains("report this bug"))
        #expect(await wrapper.submit([]) == .settled([:]))
        #expect(base.submits == 0)
        _ = await wrapper.submit(Array(three.prefix(2)))
        #expect(base.submits == 1)
    }

    @Test func theCatalogWrapsWhatItBuilds() throws {
        let setup = try #require(try ProviderCatalog.make(.dynadot, env: ["DYNADOT_API_KEY": "k3y"]))
        let wrapper = try #require(setup.provider as? RedactingProvider)
        #expect(wrapper.base is DynadotProvider)
        #expect(wrapper.secrets == ["k3y"])
    }
}
