import Foundation

/// What the plan knows of one provider before deciding: the ledger's tally of its pairs, how it sends, its price.
public struct ProviderPlanInput: Sendable {
    public var provider: ProviderID
    public var tally: [PlanTallyRow]
    /// Domains per create (Dynadot 100, Gname bulk 100, the others 1).
    public var batchSize: Int
    public var pacing: Pacing
    public var price: ProviderPrice

    public init(provider: ProviderID, tally: [PlanTallyRow], batchSize: Int, pacing: Pacing, price: ProviderPrice) {
        self.provider = provider
        self.tally = tally
        self.batchSize = batchSize
        self.pacing = pacing
        self.price = price
    }
}

/// A provider's pairs sorted into what the plan needs, from a ``Ledger/planTally(run:provider:)``.
public struct PlanCounts: Sendable, Equatable {
    /// The run's domains prepared for this provider.
    public var domains = 0
    /// To send, never sent before: each one counts against `--max-domains`.
    public var newToSend = 0
    /// To send again (refused, or proven absent by a lookup, in an earlier invocation): already counted as sent.
    public var resend = 0
    /// `unknown`, or caught mid-send: looked up first, resent only if proven absent.
    public var toCheck = 0
    /// Settled pairs per reported state (a cap's skips excluded: they are to send if the cap allows).
    public var settled: [String: Int] = [:]
    /// `already` without a send: placed by an earlier run within `--remember-days`.
    public var remembered = 0
    /// Pairs a create went out for in an earlier invocation: what `--max-domains` has already used.
    public var sentBefore = 0
    /// Pairs whose money may already be taken or held by this run: at a provider that charges every call, every
    /// pair sent before; elsewhere the accepted ones and those that may have landed (`unknown`, mid-send).
    public var committed = 0

    public var toSend: Int { newToSend + resend }

    public init() {}

    public init(tally: [PlanTallyRow], kind: ExposureKind) {
        for row in tally {
            domains += row.count
            if row.sentBefore { sentBefore += row.count }
            switch row.state {
            case .pending, .failed:
                if row.sentBefore { resend += row.count } else { newToSend += row.count }
            case .skipped where row.capSkipped:
                if row.sentBefore { resend += row.count } else { newToSend += row.count }
            case .unknown, .sending:
                toCheck += row.count
            case .accepted, .already, .rejected, .skipped:
                settled[row.state.rawValue, default: 0] += row.count
                if row.state == .already, !row.sentBefore { remembered += row.count }
            }
            switch (kind, row.state) {
            case (.chargedNow, _): if row.sentBefore { committed += row.count }
            case (_, .accepted), (_, .unknown), (_, .sending): committed += row.count
            default: break
            }
        }
    }
}

/// `plan.json`: what this invocation is about to send, per provider, and what it may cost or freeze.
public struct SendPlan: Sendable, Codable {
    public struct PacingInForce: Sendable, Codable {
        public var threads: Int
        public var perMinute: Double
    }

    /// Money of one provider; every amount is a decimal string, exact, with the price's decimal places. An
    /// unknown price leaves the amounts null, with a `note` naming the variable to set: never zero.
    public struct Exposure: Sendable, Codable {
        public var kind: ExposureKind
        public var meaning: String
        public var variable: String?
        public var known: Bool
        public var perDomain: String?
        public var currency: String?
        /// What this invocation's creates may cost or freeze.
        public var thisInvocation: String?
        /// What earlier invocations of this run may already have cost or frozen.
        public var before: String?
        public var runTotal: String?
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case kind, meaning, variable, known, perDomain, currency, thisInvocation, before, runTotal, note
        }

        /// Unknowns are written as `null`, not left out: a reader must see that they are unknown.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kind, forKey: .kind)
            try c.encode(meaning, forKey: .meaning)
            try c.encode(variable, forKey: .variable)
            try c.encode(known, forKey: .known)
            try c.encode(perDomain, forKey: .perDomain)
            try c.encode(currency, forKey: .currency)
            try c.encode(thisInvocation, forKey: .thisInvocation)
            try c.encode(before, forKey: .before)
            try c.encode(runTotal, forKey: .runTotal)
            try c.encode(note, forKey: .note)
        }
    }

    public struct ProviderPlan: Sendable, Codable {
        public var provider: ProviderID
        public var domains: Int
        /// Domains this invocation sends creates for (new and resent), after the caps.
        public var toSend: Int
        public var toSendNew: Int
        public var toResend: Int
        /// Looked up first; resent only if the lookup proves them absent (not in `requests`).
        public var toCheck: Int
        public var skippedByCap: Int
        public var sentBefore: Int
        public var settled: [String: Int]
        public var remembered: Int
        /// The first domains to send, in input order (at most 10).
        public var firstDomains: [String]
        /// Creates this invocation sends (`to_send` in batches of `batch_size`); lookups and retries come on top.
        public var requests: Int
        public var batchSize: Int
        public var pacing: PacingInForce
        /// `requests` at the pacing in force: a lower bound, from pacing only.
        public var estimatedSeconds: Double
        public var estimateNote: String
        public var exposure: Exposure
    }

    /// What the known exposures add up to, per currency.
    public struct CurrencyTotal: Sendable, Codable {
        public var currency: String
        public var thisInvocation: String
        public var before: String
        public var runTotal: String
        public var providers: [ProviderID]
    }

    /// One cap against the plan as it would be without caps (`planned`) and as it is sent (`sending`).
    public struct CapCheck: Sendable, Codable {
        /// As given: `--max-domains 100`, `--max-spend 20 GBP`, `--max-spend yay=20 GBP`.
        public var cap: String
        public var provider: ProviderID?
        public var limit: String
        public var planned: String
        public var sending: String
        public var overBy: String?
        public var exceeded: Bool
        public var note: String?

        enum CodingKeys: String, CodingKey { case cap, provider, limit, planned, sending, overBy, exceeded, note }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(cap, forKey: .cap)
            try c.encode(provider, forKey: .provider)
            try c.encode(limit, forKey: .limit)
            try c.encode(planned, forKey: .planned)
            try c.encode(sending, forKey: .sending)
            try c.encode(overBy, forKey: .overBy)
            try c.encode(exceeded, forKey: .exceeded)
            try c.encode(note, forKey: .note)
        }
    }

    public var run: String
    public var created: Date
    public var dryRun: Bool
    public var capMode: Caps.Mode
    /// `send` (within every cap), `trimmed` (`--cap-mode first` left the rest skipped) or `stopped` (nothing is sent).
    public var decision: String
    /// Why nothing is sent, one line per cap (empty unless `decision` is `stopped`).
    public var stoppedBy: [String]
    public var providers: [ProviderPlan]
    public var totals: [CurrencyTotal]
    /// Variables to set so that every exposure is known.
    public var unknownPrices: [String]
    public var caps: [CapCheck]
    public var notes: [String]
}

/// What the planner decided: the plan, and what applying it takes.
public struct PlanOutcome: Sendable {
    public var plan: SendPlan
    /// Nothing may be sent (exit 2): each cap that the plan exceeds (`--cap-mode stop`) or that meets an unknown
    /// price, said with how much.
    public var stoppedBy: [String] { plan.stoppedBy }
    /// Under `--cap-mode first`, per provider that a cap trims: the seq of the last domain to send; the pairs to send
    /// after it are skipped. A provider not listed sends all of its pairs.
    public var keepThrough: [ProviderID: Int]
    /// The reason recorded with the pairs a cap skips.
    public var capReason: [ProviderID: String]
}

/// Turns the ledger's tally, the prices and the caps into the plan (see ``SendPlan``); pure but for `fetch`, which
/// reads a provider's pairs to send in input order (``Ledger/planCandidates(run:provider:afterSeq:limit:)``).
public enum SpendPlanner {
    public typealias Fetch = (_ provider: ProviderID, _ afterSeq: Int, _ limit: Int) throws -> [PlanCandidate]

    /// Domains listed per provider in `first_domains`.
    static let sampleSize = 10

    public static func make(
        run: String, dryRun: Bool, inputs: [ProviderPlanInput], caps: Caps, now: Date = Date(), fetch: Fetch
    ) throws -> PlanOutcome {
        let inputs = inputs.sorted { $0.provider < $1.provider }
        var counts: [ProviderID: PlanCounts] = [:]
        for input in inputs { counts[input.provider] = PlanCounts(tally: input.tally, kind: input.price.kind) }
        var stopped: [String] = []
        var notes: [String] = []

        // Spend caps need every price they may cover; a provider cap needs its provider's currency.
        for input in inputs where input.price.kind != .none && (counts[input.provider]?.toSend ?? 0) > 0 {
            let id = input.provider
            let price = input.price
            let perProvider = caps.maxSpendPer[id]
            if price.money == nil, perProvider != nil || !caps.maxSpend.isEmpty {
                let cap = perProvider.map { "--max-spend \(id.rawValue)=\($0)" } ?? "--max-spend \(caps.maxSpend.values.map(\.description).sorted().joined(separator: ", "))"
                stopped.append("\(cap) cannot be checked without \(id.rawValue)'s price: \(price.fix ?? "it is unknown")")
            } else if let cap = perProvider, let money = price.money, money.currency != cap.currency {
                stopped.append("--max-spend \(id.rawValue)=\(cap): \(price.variable ?? id.rawValue) is in \(money.currency), the cap in \(cap.currency); bo-batch converts no currencies: give the cap in \(money.currency)")
            }
        }
        for cap in caps.maxSpend.values.sorted(by: { $0.currency < $1.currency }) {
            let outside = inputs.filter { $0.price.money.map { $0.currency != cap.currency } ?? false }.map(\.provider.rawValue)
            if !outside.isEmpty {
                notes.append("--max-spend \(cap) does not cover \(outside.joined(separator: ", ")) (priced in another currency); add a cap in that currency to limit it")
            }
        }

        // The checks on the plan as it would be without caps.
        var checks = capChecks(inputs: inputs, counts: counts, caps: caps, sending: nil)
        let exceeded = checks.filter(\.check.exceeded)
        var keepThrough: [ProviderID: Int] = [:]
        var capReason: [ProviderID: String] = [:]
        var admitted: [ProviderID: (total: Int, new: Int)] = counts.mapValues { (total: $0.toSend, new: $0.newToSend) }
        if !exceeded.isEmpty {
            if caps.mode == .stop || !stopped.isEmpty {
                stopped += exceeded.map(\.message)
            } else {
                let walked = try walk(inputs: inputs, counts: counts, caps: caps, exceeded: exceeded.map(\.touches), fetch: fetch)
                for (id, result) in walked {
                    admitted[id] = (result.admitted, result.admittedNew)
                    if result.admitted < counts[id]!.toSend {
                        keepThrough[id] = result.lastSeq ?? 0
                        capReason[id] = "not sent: \(result.stoppedBy ?? "a cap") reached under --cap-mode first; a rerun with a higher cap (or none) sends it, one with the same cap does not"
                    }
                }
                checks = capChecks(inputs: inputs, counts: counts, caps: caps, sending: admitted, planned: checks)
            }
        }

        var providers: [SendPlan.ProviderPlan] = []
        var totals: [String: (this: Decimal, before: Decimal, scale: Int, providers: [ProviderID])] = [:]
        var unknown: [String] = []
        for input in inputs {
            let id = input.provider
            let c = counts[id]!
            // A stopped plan shows what it would have sent: `decision` and `stopped_by` say that nothing is.
            let sending = admitted[id]!.total
            let sendingNew = admitted[id]!.new
            let requests = sending == 0 ? 0 : (sending + max(1, input.batchSize) - 1) / max(1, input.batchSize)
            let seconds = Double(requests) * 60 / max(input.pacing.requestsPerMinute, 0.000_001)
            let providerExposure = Self.exposure(input.price, committed: c.committed, sending: sending)
            var first: [String] = []
            if sending > 0 { first = try fetch(id, 0, min(sampleSize, sending)).map(\.domain) }
            if let money = input.price.money, input.price.kind != .none {
                var t = totals[money.currency] ?? (this: 0, before: 0, scale: money.scale, providers: [])
                t.this += Decimal(sending) * money.amount
                t.before += Decimal(c.committed) * money.amount
                t.scale = max(t.scale, money.scale)
                t.providers.append(id)
                totals[money.currency] = t
            } else if input.price.kind != .none, let variable = input.price.variable {
                unknown.append(variable)
            }
            providers.append(SendPlan.ProviderPlan(
                provider: id, domains: c.domains, toSend: sending, toSendNew: sendingNew, toResend: sending - sendingNew, toCheck: c.toCheck,
                skippedByCap: c.toSend - sending, sentBefore: c.sentBefore, settled: c.settled, remembered: c.remembered,
                firstDomains: first,
                requests: requests, batchSize: input.batchSize,
                pacing: SendPlan.PacingInForce(threads: input.pacing.concurrency, perMinute: input.pacing.requestsPerMinute),
                estimatedSeconds: (seconds * 10).rounded(.up) / 10,
                estimateNote: "a lower bound from pacing only: \(requests) request(s) at \(input.pacing.requestsPerMinute.formatted(.number.precision(.fractionLength(0...1))))/min; answers, refusals and lookups add to it",
                exposure: providerExposure))
        }
        if inputs.contains(where: { $0.provider == .oneapi }) {
            notes.append("1API domains past the three-hour cutoff before their drop are counted here, and skipped when their turn comes")
        }
        if inputs.contains(where: { $0.provider == .dnspod }) {
            notes.append("DNSPod domains without an email are counted here, and skipped when their turn comes")
        }
        let plan = SendPlan(
            run: run, created: now, dryRun: dryRun, capMode: caps.mode,
            decision: !stopped.isEmpty ? "stopped" : keepThrough.isEmpty ? "send" : "trimmed", stoppedBy: stopped,
            providers: providers,
            totals: totals.keys.sorted().map { cur in
                let t = totals[cur]!
                return SendPlan.CurrencyTotal(
                    currency: cur, thisInvocation: Money.format(t.this, scale: t.scale), before: Money.format(t.before, scale: t.scale),
                    runTotal: Money.format(t.this + t.before, scale: t.scale), providers: t.providers)
            },
            unknownPrices: unknown, caps: checks.map(\.check), notes: notes)
        return PlanOutcome(plan: plan, keepThrough: stopped.isEmpty ? keepThrough : [:], capReason: capReason)
    }

    static func exposure(_ price: ProviderPrice, committed: Int, sending: Int) -> SendPlan.Exposure {
        var e = SendPlan.Exposure(
            kind: price.kind, meaning: price.meaning, variable: price.variable, known: false, perDomain: nil, currency: price.currency,
            thisInvocation: nil, before: nil, runTotal: nil, note: price.fix.map { price.amount == nil ? "unknown: \($0)" : $0 })
        guard let amount = price.amount else { return e }
        let scale = price.scale
        e.perDomain = Money.format(amount, scale: scale)
        e.thisInvocation = Money.format(Decimal(sending) * amount, scale: scale)
        e.before = Money.format(Decimal(committed) * amount, scale: scale)
        e.runTotal = Money.format(Decimal(committed + sending) * amount, scale: scale)
        e.known = price.money != nil || price.kind == .none
        return e
    }

    // MARK: caps

    /// What a cap covers: a provider's domains, a provider's money, or one currency's money over every provider.
    enum Touch: Hashable {
        case domains(ProviderID)
        case spend(ProviderID)
        case total(String)
    }

    struct Check {
        var check: SendPlan.CapCheck
        var message: String
        var touches: Touch
    }

    /// Every cap against the plan: `sending` nil checks the plan without caps; otherwise it is what each provider
    /// sends after the walk, and `planned` (the checks without caps) keeps their `planned` and `exceeded`.
    static func capChecks(
        inputs: [ProviderPlanInput], counts: [ProviderID: PlanCounts], caps: Caps, sending: [ProviderID: (total: Int, new: Int)]?, planned: [Check]? = nil
    ) -> [Check] {
        var out: [Check] = []
        func send(_ id: ProviderID) -> Int { sending?[id]?.total ?? counts[id]!.toSend }
        func sendNew(_ id: ProviderID) -> Int { sending?[id]?.new ?? counts[id]!.newToSend }
        for input in inputs {
            let id = input.provider
            let c = counts[id]!
            if let cap = caps.domainCap(id) {
                let total = c.sentBefore + c.newToSend
                let over = total - cap
                let exceeded = over > 0 && c.newToSend > 0
                out.append(Check(
                    check: SendPlan.CapCheck(
                        cap: caps.domainCapText(id), provider: id, limit: String(cap), planned: String(total),
                        sending: String(c.sentBefore + sendNew(id)),
                        overBy: exceeded ? String(over) : nil, exceeded: exceeded, note: nil),
                    message: "\(caps.domainCapText(id)): \(id.rawValue) would be sent \(total) domains in this run (\(c.sentBefore) before, \(c.newToSend) now), \(over) over the cap",
                    touches: .domains(id)))
            }
            if let cap = caps.maxSpendPer[id], let money = input.price.money, money.currency == cap.currency, input.price.kind != .none {
                let scale = max(money.scale, cap.scale)
                let before = Decimal(c.committed) * money.amount
                let total = before + Decimal(c.toSend) * money.amount
                let after = before + Decimal(send(id)) * money.amount
                let exceeded = total > cap.amount && c.toSend > 0
                let text = "--max-spend \(id.rawValue)=\(cap)"
                out.append(Check(
                    check: SendPlan.CapCheck(
                        cap: text, provider: id, limit: Money.format(cap.amount, scale: scale), planned: Money.format(total, scale: scale),
                        sending: Money.format(after, scale: scale), overBy: exceeded ? Money.format(total - cap.amount, scale: scale) : nil,
                        exceeded: exceeded, note: "\(input.price.kind.rawValue) at \(money) per domain"),
                    message: "\(text): \(id.rawValue) may \(verb(input.price.kind)) \(Money.format(total, scale: scale)) \(money.currency) in this run (\(Money.format(before, scale: scale)) before, \(Money.format(total - before, scale: scale)) now), \(Money.format(total - cap.amount, scale: scale)) \(money.currency) over the cap",
                    touches: .spend(id)))
            }
        }
        for cap in caps.maxSpend.values.sorted(by: { $0.currency < $1.currency }) {
            let covered = inputs.filter { $0.price.kind != .none && $0.price.money?.currency == cap.currency }
            var scale = cap.scale
            var before: Decimal = 0, total: Decimal = 0, after: Decimal = 0
            var parts: [String] = []
            var toSend = 0
            for input in covered {
                let money = input.price.money!
                let c = counts[input.provider]!
                scale = max(scale, money.scale)
                before += Decimal(c.committed) * money.amount
                let mine = Decimal(c.committed + c.toSend) * money.amount
                total += mine
                after += Decimal(c.committed + send(input.provider)) * money.amount
                toSend += c.toSend
                parts.append("\(input.provider.rawValue) \(input.price.kind.rawValue) \(Money.format(mine, scale: money.scale))")
            }
            let exceeded = total > cap.amount && toSend > 0
            let text = "--max-spend \(cap)"
            out.append(Check(
                check: SendPlan.CapCheck(
                    cap: text, provider: nil, limit: Money.format(cap.amount, scale: scale), planned: Money.format(total, scale: scale),
                    sending: Money.format(after, scale: scale), overBy: exceeded ? Money.format(total - cap.amount, scale: scale) : nil,
                    exceeded: exceeded, note: covered.isEmpty ? "no selected provider is priced in \(cap.currency)" : "every provider priced in \(cap.currency): \(covered.map(\.provider.rawValue).joined(separator: ", "))"),
                message: "\(text): this run may cost or freeze \(Money.format(total, scale: scale)) \(cap.currency) (\(parts.joined(separator: ", ")); \(Money.format(before, scale: scale)) of it before this invocation), \(Money.format(total - cap.amount, scale: scale)) \(cap.currency) over the cap",
                touches: .total(cap.currency)))
        }
        guard let planned else { return out }
        // After the walk: `planned` and `exceeded` stay those of the plan without caps.
        for i in out.indices where i < planned.count {
            out[i].check.planned = planned[i].check.planned
            out[i].check.overBy = planned[i].check.overBy
            out[i].check.exceeded = planned[i].check.exceeded
        }
        return out
    }

    static func verb(_ kind: ExposureKind) -> String {
        switch kind {
        case .chargedNow: "charge"
        case .frozen: "freeze"
        case .paidIfCaught: "cost (if every domain is caught)"
        case .none: "cost"
        }
    }

    struct WalkResult {
        var admitted = 0
        /// Of `admitted`, those never sent before.
        var admittedNew = 0
        var lastSeq: Int?
        var stoppedBy: String?
    }

    /// `--cap-mode first`: admits each provider's pairs to send in input order (domain by domain, providers in
    /// their order within a domain) while every cap on it has room; a provider stops at its first pair that does
    /// not fit, so what it sends is a prefix of its list. Only the providers an exceeded cap touches are walked
    /// (the others fit whole), reading just past what they send.
    static func walk(
        inputs: [ProviderPlanInput], counts: [ProviderID: PlanCounts], caps: Caps, exceeded: [Touch], fetch: Fetch
    ) throws -> [ProviderID: WalkResult] {
        let touched = Set(exceeded)
        func isWalked(_ input: ProviderPlanInput) -> Bool {
            let id = input.provider
            if touched.contains(.domains(id)) || touched.contains(.spend(id)) { return true }
            if let cur = input.price.money?.currency, input.price.kind != .none, touched.contains(.total(cur)) { return true }
            return false
        }
        let walked = inputs.filter(isWalked)
        // Room left in each currency's total, after what earlier invocations hold and what the providers that are not
        // walked send whole.
        var totalRoom: [String: Decimal] = [:]
        for (cur, cap) in caps.maxSpend {
            var room = cap.amount
            for input in inputs where input.price.kind != .none && input.price.money?.currency == cur {
                let c = counts[input.provider]!
                let sends = isWalked(input) ? 0 : c.toSend
                room -= Decimal(c.committed + sends) * input.price.money!.amount
            }
            totalRoom[cur] = room
        }
        struct Cursor {
            var input: ProviderPlanInput
            var domainRoom: Int?
            var spendRoom: Decimal?
            var price: Decimal
            var currency: String?
            var page: [PlanCandidate] = []
            var index = 0
            var after = 0
            var done = false
            var result = WalkResult()
        }
        var cursors: [Cursor] = walked.map { input in
            let c = counts[input.provider]!
            let money = input.price.kind == .none ? nil : input.price.money
            return Cursor(
                input: input, domainRoom: caps.domainCap(input.provider).map { $0 - c.sentBefore },
                spendRoom: caps.maxSpendPer[input.provider].flatMap { cap in money.map { cap.amount - Decimal(c.committed) * $0.amount } },
                price: money?.amount ?? 0, currency: money?.currency)
        }
        let pageSize = 512
        while true {
            // Fill each live cursor's head; the lowest seq goes next, every provider holding it in provider order.
            var lowest: Int?
            for i in cursors.indices where !cursors[i].done {
                if cursors[i].index >= cursors[i].page.count {
                    cursors[i].page = try fetch(cursors[i].input.provider, cursors[i].after, pageSize)
                    cursors[i].index = 0
                    if cursors[i].page.isEmpty {
                        cursors[i].done = true
                        continue
                    }
                    cursors[i].after = cursors[i].page.last!.seq
                }
                let seq = cursors[i].page[cursors[i].index].seq
                lowest = min(lowest ?? seq, seq)
            }
            guard let seq = lowest else { break }
            for i in cursors.indices where !cursors[i].done && cursors[i].page[cursors[i].index].seq == seq {
                let id = cursors[i].input.provider
                let candidate = cursors[i].page[cursors[i].index]
                let cost = candidate.sentBefore ? 0 : 1
                if let room = cursors[i].domainRoom, room < cost {
                    cursors[i].done = true
                    cursors[i].result.stoppedBy = caps.domainCapText(id)
                    continue
                }
                if let room = cursors[i].spendRoom, cursors[i].price > room {
                    cursors[i].done = true
                    cursors[i].result.stoppedBy = "--max-spend \(id.rawValue)=\(caps.maxSpendPer[id]!)"
                    continue
                }
                if let cur = cursors[i].currency, let room = totalRoom[cur], cursors[i].price > room {
                    cursors[i].done = true
                    cursors[i].result.stoppedBy = "--max-spend \(caps.maxSpend[cur]!)"
                    continue
                }
                cursors[i].domainRoom = cursors[i].domainRoom.map { $0 - cost }
                cursors[i].spendRoom = cursors[i].spendRoom.map { $0 - cursors[i].price }
                if let cur = cursors[i].currency, totalRoom[cur] != nil { totalRoom[cur]! -= cursors[i].price }
                cursors[i].result.admitted += 1
                cursors[i].result.admittedNew += cost
                cursors[i].result.lastSeq = candidate.seq
                cursors[i].index += 1
            }
        }
        return Dictionary(uniqueKeysWithValues: cursors.map { ($0.input.provider, $0.result) })
    }
}
