@testable import BoBatch
import Foundation
import Testing

/// Prices, the money exposure per provider, and the cap decisions of the plan (issue 10, section 3), on their
/// own; the ledger queries they read from are tested at the end against a real ledger.
@Suite struct SpendPlanTests {
    // MARK: money and prices

    @Test(arguments: [
        ("2.50 GBP", "2.5", "GBP", 2), ("2.50GBP", "2.5", "GBP", 2), ("20 gbp", "20", "GBP", 0), ("  0 USD ", "0", "USD", 0),
        ("0.125 EUR", "0.125", "EUR", 3),
    ])
    func amountsWithACurrencyAreRead(text: String, amount: String, currency: String, scale: Int) throws {
        let money = try #require(Money.parse(text))
        #expect(money.amount == Decimal(string: amount, locale: Locale(identifier: "en_US_POSIX")))
        #expect(money.currency == currency)
        #expect(money.scale == scale)
    }

    @Test(arguments: ["2,50 GBP", "-1 GBP", "1e3 GBP", "2.50 GB", "2.50 GBPX", "2.50", "GBP", "GBP 2.50", "1.2.3 GBP", ".5 GBP", "5. GBP", "2.50 £$€", "", "2.50 G1P"])
    func anythingElseIsNotMoney(text: String) {
        #expect(Money.parse(text) == nil, "\(text)")
    }

    @Test func amountsAreExactDecimalsShownWithThePricesPlaces() throws {
        let dime = try #require(Money.parse("0.10 USD"))
        // 0.1 is not exact in binary: three of them are 0.30000000000000004 as a Double, 0.30 here.
        #expect(Money.format(dime.amount * 3, scale: dime.scale) == "0.30")
        #expect(Money.format(Decimal(12) * Money.parse("2.50 GBP")!.amount, scale: 2) == "30.00")
        #expect(Money.format(Decimal(string: "1234567.5")!, scale: 2) == "1234567.50")
        #expect(Money.format(Decimal(500), scale: 0) == "500")
        #expect(Money.format(Decimal(string: "2.675")!, scale: 2) == "2.68")
        #expect(Money.parse("2.50 GBP")!.description == "2.50 GBP")
    }

    @Test func eachProviderHasItsPriceVariableAndKindOfExposure() throws {
        let env = ["YAY_PRICE": "2.50 GBP", "DYNADOT_PRICE": "8.99usd", "ONEAPI_PRICE": "12 EUR", "GNAME_MAX_PRICE": "10.50 USD"]
        let prices = try PriceList.fromEnvironment(env, providers: ProviderID.allCases)
        #expect(prices[.yay]?.money == Money(amount: Decimal(string: "2.5")!, currency: "GBP", scale: 2))
        #expect(prices[.yay]?.kind == .chargedNow)
        #expect(prices[.dynadot]?.money?.currency == "USD")
        #expect(prices[.dynadot]?.kind == .paidIfCaught)
        #expect(prices[.oneapi]?.kind == .frozen)
        #expect(prices[.gname]?.kind == .frozen)
        #expect(prices[.gname]?.money?.description == "10.50 USD")
        // DNSPod charges nothing: known, zero, and no variable to set.
        #expect(prices[.dnspod]?.kind == ExposureKind.none)
        #expect(prices[.dnspod]?.amount == 0)
        #expect(prices[.dnspod]?.fix == nil)
    }

    @Test func unknownPricesAreUnknownNotZeroAndSayWhatToSet() throws {
        let prices = try PriceList.fromEnvironment(["GNAME_MAX_PRICE": "10.50"], providers: ProviderID.allCases)
        for id in [ProviderID.dynadot, .yay, .oneapi] {
            #expect(prices[id]?.amount == nil)
            #expect(prices[id]?.fix?.contains(PriceList.variable(id)!) == true)
        }
        // Gname's plain amount (what GNAME_MAX_PRICE always took) is known; its currency is not.
        #expect(prices[.gname]?.amount == Decimal(string: "10.5"))
        #expect(prices[.gname]?.money == nil)
        #expect(prices[.gname]?.fix?.contains("GNAME_MAX_PRICE='10.50 USD'") == true)
    }

    @Test(arguments: [
        ("YAY_PRICE", "2,50 GBP"), ("YAY_PRICE", "2.50"), ("DYNADOT_PRICE", "cheap"), ("ONEAPI_PRICE", "12 EURO"),
        ("GNAME_MAX_PRICE", "ten USD"), ("GNAME_PRICE", "3 USD"), ("DNSPOD_PRICE", "1 USD"),
    ])
    func aBadPriceIsAnErrorNamingItsVariable(variable: String, value: String) {
        #expect {
            try PriceList.fromEnvironment([variable: value], providers: ProviderID.allCases)
        } throws: { error in
            (error as? ConfigurationError)?.message.hasPrefix("\(variable)=") == true
        }
    }

    @Test func gnameSendsOnlyTheAmountOfAMaxPriceWithACurrency() throws {
        let base = ["GNAME_APPID": "id", "GNAME_APPKEY": "key"]
        #expect(try GnameConfig.fromEnvironment(base.merging(["GNAME_MAX_PRICE": "10.50 USD"]) { $1 })?.maxPrice == "10.50")
        #expect(try GnameConfig.fromEnvironment(base.merging(["GNAME_MAX_PRICE": "10.50"]) { $1 })?.maxPrice == "10.50")
        #expect(throws: ConfigurationError.self) { try GnameConfig.fromEnvironment(base.merging(["GNAME_MAX_PRICE": "10.505 USD"]) { $1 }) }
    }

    // MARK: caps on the command line

    @Test func capsAreReadPerProviderAndPerCurrency() throws {
        let caps = try Caps.parse(maxDomains: ["500", "yay=100"], maxSpend: ["20GBP", "30 usd", "yay=2.50 GBP"], mode: "first")
        #expect(caps.domainCap(.dynadot) == 500)
        #expect(caps.domainCap(.yay) == 100)
        #expect(caps.maxSpend["GBP"]?.amount == 20)
        #expect(caps.maxSpend["USD"]?.amount == 30)
        #expect(caps.maxSpendPer[.yay]?.description == "2.50 GBP")
        #expect(caps.mode == .first)
        #expect(try Caps.parse(maxDomains: [], maxSpend: [], mode: nil).isEmpty)
    }

    @Test(arguments: [
        (["abc"], [String](), nil as String?, "--max-domains abc"), (["-1"], [], nil, "--max-domains -1"), (["5", "6"], [], nil, "twice"),
        (["foo=3"], [], nil, "'foo' is not a provider"), ([], ["20"], nil, "--max-spend 20"), ([], ["20 GBPX"], nil, "--max-spend 20 GBPX"),
        ([], ["20GBP", "30GBP"], nil, "twice"), ([], ["yay=2 GBP", "yay=3 GBP"], nil, "twice"), (["5"], [], "later", "--cap-mode later"),
        ([], [], "first", "needs a cap"),
    ])
    func aBadCapSaysWhichOption(domains: [String], spend: [String], mode: String?, expected: String) {
        #expect {
            try Caps.parse(maxDomains: domains, maxSpend: spend, mode: mode)
        } throws: { error in
            (error as? CapError)?.message.contains(expected) == true
        }
    }

    // MARK: counting a provider's pairs

    @Test func theTallyIsSortedIntoToSendToCheckSettledAndWhatWasSentBefore() {
        let tally = [
            PlanTallyRow(state: .pending, capSkipped: false, sentBefore: false, count: 10),
            PlanTallyRow(state: .pending, capSkipped: false, sentBefore: true, count: 2),
            PlanTallyRow(state: .failed, capSkipped: false, sentBefore: false, count: 1),
            PlanTallyRow(state: .skipped, capSkipped: true, sentBefore: false, count: 4),
            PlanTallyRow(state: .skipped, capSkipped: false, sentBefore: false, count: 3),
            PlanTallyRow(state: .unknown, capSkipped: false, sentBefore: true, count: 5),
            PlanTallyRow(state: .accepted, capSkipped: false, sentBefore: true, count: 7),
            PlanTallyRow(state: .rejected, capSkipped: false, sentBefore: true, count: 6),
            PlanTallyRow(state: .already, capSkipped: false, sentBefore: false, count: 8),
        ]
        let frozen = PlanCounts(tally: tally, kind: .frozen)
        #expect(frozen.domains == 46)
        #expect(frozen.newToSend == 15)
        #expect(frozen.resend == 2)
        #expect(frozen.toCheck == 5)
        #expect(frozen.settled == ["skipped": 3, "accepted": 7, "rejected": 6, "already": 8])
        #expect(frozen.remembered == 8)
        #expect(frozen.sentBefore == 20)
        // Money held: the placed ones and those that may have landed; a rejection freezes nothing.
        #expect(frozen.committed == 12)
        // Yay charged every POST that went out, whatever came back.
        #expect(PlanCounts(tally: tally, kind: .chargedNow).committed == 20)
    }

    // MARK: the plan

    /// `n` never-sent pairs of each provider, seqs 1...n, fetched from memory.
    struct Fixture {
        var candidates: [ProviderID: [PlanCandidate]] = [:]
        var inputs: [ProviderPlanInput] = []

        mutating func add(
            _ id: ProviderID, new: Int = 0, resendAt: Set<Int> = [], tally extra: [PlanTallyRow] = [], price: String? = nil, batch: Int = 1,
            pacing: Pacing = Pacing(concurrency: 1, requestsPerMinute: 30)
        ) {
            let list = (1...max(1, new + resendAt.count)).prefix(new + resendAt.count).map { seq in
                PlanCandidate(seq: seq, domain: "d\(seq).com", sentBefore: resendAt.contains(seq))
            }
            candidates[id] = list
            var tally = extra
            tally.append(PlanTallyRow(state: .pending, capSkipped: false, sentBefore: false, count: new))
            if !resendAt.isEmpty { tally.append(PlanTallyRow(state: .pending, capSkipped: false, sentBefore: true, count: resendAt.count)) }
            var p = ProviderPrice(provider: id, kind: PriceList.kind(id), variable: PriceList.variable(id), amount: nil, currency: nil, scale: 2)
            if let price, let money = Money.parse(price) {
                p.amount = money.amount
                p.currency = money.currency
                p.scale = money.scale
            }
            if id == .dnspod {
                p.amount = 0
                p.scale = 0
            }
            inputs.append(ProviderPlanInput(provider: id, tally: tally, batchSize: batch, pacing: pacing, price: p))
        }

        func plan(_ caps: Caps = Caps(), dryRun: Bool = true) throws -> PlanOutcome {
            try SpendPlanner.make(run: "r", dryRun: dryRun, inputs: inputs, caps: caps, now: Date(timeIntervalSince1970: 0)) { id, after, limit in
                Array((candidates[id] ?? []).filter { $0.seq > after }.prefix(limit))
            }
        }
    }

    func caps(domains: [String] = [], spend: [String] = [], mode: String? = nil) throws -> Caps {
        try Caps.parse(maxDomains: domains, maxSpend: spend, mode: mode)
    }

    @Test func requestsAndTimeFollowTheBatchSizeAndThePacing() throws {
        var f = Fixture()
        f.add(.dynadot, new: 250, batch: 100, pacing: Pacing(concurrency: 1, requestsPerMinute: 60))
        f.add(.yay, new: 12, pacing: Pacing(concurrency: 1, requestsPerMinute: 30))
        let plan = try f.plan().plan
        let dynadot = try #require(plan.providers.first { $0.provider == .dynadot })
        #expect(dynadot.toSend == 250)
        #expect(dynadot.requests == 3)
        #expect(dynadot.estimatedSeconds == 3)
        #expect(dynadot.estimateNote.contains("lower bound"))
        #expect(dynadot.firstDomains == (1...10).map { "d\($0).com" })
        let yay = try #require(plan.providers.first { $0.provider == .yay })
        #expect(yay.requests == 12)
        #expect(yay.estimatedSeconds == 24)
        #expect(plan.decision == "send")
    }

    @Test func exposureSaysWhatKindOfMoneyAndUnknownStaysUnknown() throws {
        var f = Fixture()
        f.add(.yay, new: 12, tally: [PlanTallyRow(state: .accepted, capSkipped: false, sentBefore: true, count: 4)], price: "2.50 GBP")
        f.add(.dynadot, new: 3, price: "8.99 USD")
        f.add(.oneapi, new: 5)
        f.add(.dnspod, new: 5)
        let plan = try f.plan().plan
        let yay = try #require(plan.providers.first { $0.provider == .yay }).exposure
        #expect(yay.kind == .chargedNow)
        #expect(yay.known)
        #expect(yay.perDomain == "2.50")
        #expect(yay.thisInvocation == "30.00")
        #expect(yay.before == "10.00")
        #expect(yay.runTotal == "40.00")
        #expect(yay.currency == "GBP")
        let dynadot = try #require(plan.providers.first { $0.provider == .dynadot }).exposure
        #expect(dynadot.kind == .paidIfCaught)
        #expect(dynadot.thisInvocation == "26.97")
        let oneapi = try #require(plan.providers.first { $0.provider == .oneapi }).exposure
        #expect(oneapi.kind == .frozen)
        #expect(!oneapi.known)
        #expect(oneapi.thisInvocation == nil)
        #expect(oneapi.note?.contains("ONEAPI_PRICE") == true)
        let dnspod = try #require(plan.providers.first { $0.provider == .dnspod }).exposure
        #expect(dnspod.kind == ExposureKind.none)
        #expect(dnspod.known)
        #expect(dnspod.thisInvocation == "0")
        #expect(plan.totals.map(\.currency) == ["GBP", "USD"])
        #expect(plan.totals.first?.thisInvocation == "30.00")
        #expect(plan.totals.first?.runTotal == "40.00")
        #expect(plan.unknownPrices == ["ONEAPI_PRICE"])

        // In plan.json the unknowns are there, as null.
        let data = try Self.json(plan)
        let providers = try #require(data["providers"] as? [[String: Any]])
        let oneapiJSON = try #require(providers.first { $0["provider"] as? String == "oneapi" }?["exposure"] as? [String: Any])
        #expect(oneapiJSON["this_invocation"] is NSNull)
        #expect(oneapiJSON["per_domain"] is NSNull)
        #expect(oneapiJSON["kind"] as? String == "frozen")
    }

    static func json(_ plan: SendPlan) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return try JSONSerialization.jsonObject(with: encoder.encode(plan)) as? [String: Any] ?? [:]
    }

    @Test func aPlanOverADomainCapStopsAndSaysByHowMuch() throws {
        var f = Fixture()
        f.add(.yay, new: 12, tally: [PlanTallyRow(state: .accepted, capSkipped: false, sentBefore: true, count: 3)])
        f.add(.dynadot, new: 5)
        let outcome = try f.plan(caps(domains: ["10"]))
        #expect(outcome.plan.decision == "stopped")
        // What earlier invocations sent counts: 3 + 12 = 15 at Yay; Dynadot's 5 fit.
        #expect(outcome.stoppedBy == ["--max-domains 10: yay would be sent 15 domains in this run (3 before, 12 now), 5 over the cap"])
        #expect(outcome.keepThrough.isEmpty)
        // The plan shows what it would have sent.
        #expect(outcome.plan.providers.map(\.toSend) == [5, 12])
        let check = try #require(outcome.plan.caps.first { $0.provider == .yay })
        #expect(check.exceeded)
        #expect(check.overBy == "5")
        #expect(outcome.plan.caps.first { $0.provider == .dynadot }?.exceeded == false)
    }

    @Test func capModeFirstSendsTheFirstDomainsUpToTheCapAndResendsAreAlreadyCounted() throws {
        var f = Fixture()
        // Seq 2 was refused in an earlier invocation: sending it again uses no more of the domain cap.
        f.add(.yay, new: 9, resendAt: [2])
        f.add(.dynadot, new: 10, batch: 100)
        let outcome = try f.plan(caps(domains: ["4", "dynadot=20"], mode: "first"))
        #expect(outcome.stoppedBy.isEmpty)
        #expect(outcome.plan.decision == "trimmed")
        // Yay: seq 2 is one of the 4 already; then 1, 3 and 4 (and 2 again, refused before): 4 domains in all.
        #expect(outcome.keepThrough == [.yay: 4])
        let yay = try #require(outcome.plan.providers.first { $0.provider == .yay })
        #expect(yay.toSend == 4)
        #expect(yay.toSendNew == 3)
        #expect(yay.toResend == 1)
        #expect(yay.skippedByCap == 6)
        #expect(outcome.capReason[.yay]?.contains("--max-domains 4") == true)
        #expect(outcome.plan.providers.first { $0.provider == .dynadot }?.toSend == 10)
        let check = try #require(outcome.plan.caps.first { $0.provider == .yay })
        #expect(check.planned == "10")
        #expect(check.sending == "4")
        #expect(check.exceeded)
    }

    @Test func aCapAlreadyUsedUpByEarlierInvocationsSendsNothingMore() throws {
        var f = Fixture()
        f.add(.yay, new: 6, tally: [PlanTallyRow(state: .accepted, capSkipped: false, sentBefore: true, count: 4)])
        let outcome = try f.plan(caps(domains: ["4"], mode: "first"))
        #expect(outcome.keepThrough == [.yay: 0])
        #expect(outcome.plan.providers[0].toSend == 0)
        #expect(outcome.plan.providers[0].skippedByCap == 6)
    }

    @Test func aTotalSpendCapIsSharedByEveryProviderInItsCurrencyDomainByDomain() throws {
        var f = Fixture()
        f.add(.yay, new: 10, price: "2.50 GBP")
        f.add(.oneapi, new: 10, price: "5 GBP")
        f.add(.dynadot, new: 10, price: "8 USD", batch: 100)
        let stop = try f.plan(caps(spend: ["20GBP"]))
        #expect(stop.stoppedBy.count == 1)
        #expect(stop.stoppedBy[0].hasPrefix("--max-spend 20 GBP: this run may cost or freeze 75.00 GBP"))
        #expect(stop.stoppedBy[0].hasSuffix("55.00 GBP over the cap"))
        #expect(stop.plan.notes.contains { $0.contains("does not cover dynadot") })

        let first = try f.plan(caps(spend: ["20GBP"], mode: "first"))
        // Domain by domain, providers in their order: d1 yay 2.50 + 1API 5, d2 the same (15.00), d3 yay 2.50 (17.50);
        // 1API's next 5.00 no longer fits, so 1API stops; Yay's next 2.50 does (20.00), then Yay stops too.
        #expect(first.keepThrough == [.yay: 4, .oneapi: 2])
        #expect(first.plan.providers.first { $0.provider == .dynadot }?.toSend == 10)
        let total = try #require(first.plan.caps.first { $0.cap == "--max-spend 20 GBP" })
        #expect(total.sending == "20.00")
        #expect(total.planned == "75.00")
        #expect(first.plan.totals.first { $0.currency == "GBP" }?.thisInvocation == "20.00")
    }

    @Test func aProvidersOwnSpendCapCountsWhatItHeldBefore() throws {
        var f = Fixture()
        f.add(.gname, new: 10, tally: [PlanTallyRow(state: .unknown, capSkipped: false, sentBefore: true, count: 2)], price: "3 CNY")
        let stop = try f.plan(caps(spend: ["gname=20CNY"]))
        #expect(stop.stoppedBy == ["--max-spend gname=20 CNY: gname may freeze 36 CNY in this run (6 before, 30 now), 16 CNY over the cap"])
        let first = try f.plan(caps(spend: ["gname=20 CNY"], mode: "first"))
        #expect(first.keepThrough == [.gname: 4])
    }

    @Test func aSpendCapWithAnUnknownPriceStopsAndNamesTheVariableInEitherMode() throws {
        for mode in ["stop", "first"] {
            var f = Fixture()
            f.add(.yay, new: 3)
            f.add(.dnspod, new: 3)
            let outcome = try f.plan(caps(spend: ["100GBP"], mode: mode))
            #expect(outcome.stoppedBy.count == 1, "\(mode)")
            #expect(outcome.stoppedBy.first?.contains("YAY_PRICE") == true)
            #expect(outcome.plan.decision == "stopped")
        }
        // A provider with nothing left to send needs no price.
        var done = Fixture()
        done.add(.yay, new: 0)
        #expect(try done.plan(caps(spend: ["100GBP"])).stoppedBy.isEmpty)
    }

    @Test func aProviderCapInAnotherCurrencyIsAnError() throws {
        var f = Fixture()
        f.add(.yay, new: 3, price: "2.50 GBP")
        let outcome = try f.plan(caps(spend: ["yay=10USD"]))
        #expect(outcome.stoppedBy.first?.contains("converts no currencies") == true)
    }

    @Test func withinEveryCapEverythingIsSent() throws {
        var f = Fixture()
        f.add(.yay, new: 8, price: "2.50 GBP")
        let outcome = try f.plan(caps(domains: ["8"], spend: ["20GBP", "yay=20GBP"], mode: "first"))
        #expect(outcome.plan.decision == "send")
        #expect(outcome.keepThrough.isEmpty)
        #expect(outcome.plan.caps.allSatisfy { !$0.exceeded })
    }

    @Test func aCapStoppedInvocationExitsTwoWhateverElseHappened() throws {
        let facts = ExitFacts(counts: [.yay: [.pending: 3]], resumable: 3, invalidInputs: 2, invocation: InvocationFacts(dryRun: true, capStopped: true))
        #expect(ExitStatus.decide(facts) == .usage)
        #expect(ExitStatus.meaning(of: facts).hasPrefix("stopped by a cap before anything was sent"))
        // Facts stored before caps existed still decode.
        let old = #"{"dryRun":false,"haltedLanes":["gname"],"interrupted":false,"unwrittenResultFiles":0}"#
        #expect(try JSONDecoder().decode(InvocationFacts.self, from: Data(old.utf8)) == InvocationFacts(haltedLanes: [.gname]))
    }

    // MARK: the ledger's side

    let run = "plan-test"
    let t0 = Date(timeIntervalSince1970: 1_760_000_000)

    func ledger(_ names: [String], providers: [ProviderID] = [.yay]) throws -> Ledger {
        let ledger = try Ledger(directory: TestPaths.temporaryDirectory())
        try ledger.openRun(run, now: t0)
        try ledger.ingest(run: run, names.map {
            IngestEntry(domain: DomainName(validatedASCII: $0), input: $0, source: "list.txt", attributes: DomainAttributes())
        })
        try ledger.preparePairs(run: run, providers: providers, rememberSince: .distantPast, now: t0)
        return ledger
    }

    @Test func theLedgerTalliesCandidatesAndAppliesACapThatARerunCanRaise() throws {
        let names = (1...10).map { "n\($0).com" }
        let l = try ledger(names, providers: [.yay, .dynadot])
        try l.record(run: run, provider: .yay, [PairUpdate(domain: DomainName(validatedASCII: "n1.com"), state: .accepted, code: .ok, message: "")], now: t0)
        _ = try l.beginSend(run: run, provider: .yay, domains: [DomainName(validatedASCII: "n2.com")], now: t0)
        try l.record(run: run, provider: .yay, [PairUpdate(domain: DomainName(validatedASCII: "n2.com"), state: .pending, code: .refused, message: "")], now: t0)

        let counts = PlanCounts(tally: try l.planTally(run: run)[.yay] ?? [], kind: .chargedNow)
        #expect(counts.domains == 10)
        #expect(counts.newToSend == 8)
        #expect(counts.resend == 1)
        #expect(counts.sentBefore == 1)
        #expect(counts.settled == ["accepted": 1])
        #expect(PlanCounts(tally: try l.planTally(run: run)[.dynadot] ?? [], kind: .paidIfCaught).newToSend == 10)

        let candidates = try l.planCandidates(run: run, provider: .yay, afterSeq: 0, limit: 100)
        #expect(candidates.map(\.domain) == Array(names.dropFirst()))
        #expect(candidates.first?.sentBefore == true)
        #expect(try l.planCandidates(run: run, provider: .yay, afterSeq: 4, limit: 2).map(\.domain) == ["n5.com", "n6.com"])

        // A cap through n4: n5...n10 are skipped, with the reason; nothing else moves.
        let t1 = t0.addingTimeInterval(60)
        #expect(try l.applyCap(run: run, provider: .yay, keepThrough: 4, reason: "not sent: --max-domains 3", now: t1) == (6, 0))
        #expect(try l.stateCounts(run: run)[.yay] == [.accepted: 1, .pending: 3, .skipped: 6])
        let skipped = try l.pairs(run: run, provider: .yay, state: .pending, afterSeq: 0, limit: 100).map(\.item.domain.ascii)
        #expect(skipped == ["n2.com", "n3.com", "n4.com"])
        let files = try l.dueResults(run: run, afterDomain: "", limit: 100)
        let n7 = try #require(files.first { $0.domain == "n7.com" }?.pairs.first { $0.provider == "yay" })
        #expect(n7.state == .skipped)
        #expect(n7.code == "cap")
        #expect(n7.message == "not sent: --max-domains 3")
        // Skipped by a cap, they are still candidates of the next plan.
        #expect(PlanCounts(tally: try l.planTally(run: run)[.yay] ?? [], kind: .chargedNow).newToSend == 8)
        // The same cap again changes nothing; a higher one releases some; none releases the rest.
        #expect(try l.applyCap(run: run, provider: .yay, keepThrough: 4, reason: "not sent: --max-domains 3", now: t1.addingTimeInterval(1)) == (0, 0))
        #expect(try l.applyCap(run: run, provider: .yay, keepThrough: 6, reason: "not sent: --max-domains 5", now: t1.addingTimeInterval(2)) == (4, 2))
        #expect(try l.stateCounts(run: run)[.yay] == [.accepted: 1, .pending: 5, .skipped: 4])
        #expect(try l.applyCap(run: run, provider: .yay, keepThrough: nil, reason: "", now: t1.addingTimeInterval(3)) == (0, 4))
        #expect(try l.stateCounts(run: run)[.yay] == [.accepted: 1, .pending: 9])
        // Dynadot never had a cap.
        #expect(try l.stateCounts(run: run)[.dynadot] == [.pending: 10])
    }
}
