import BoBatchHTTP
import Foundation

/// Turns Gname's answers into the lane's vocabulary. Pure: everything it needs comes in as arguments.
///
/// Gname publishes no error codes beyond `1` (success), `-1` (failure) and, per bulk item, `-2` (already
/// backordered), so failures are told apart by their wording (English, and the Chinese Gname also uses).
/// A failure whose wording is not recognised is `maybeProcessed` for a single create: the lane then asks
/// `/api/backorder/info` rather than guessing about a create that freezes a deposit.
enum GnameClassifier {
    /// What a failure message is about.
    enum MessageKind: Equatable {
        case already
        /// About this domain; retrying cannot help.
        case domainProblem
        /// Rate limit or a busy system: nothing was done, send again later.
        case busy
        /// The request time was refused (`gntime`).
        case clock
        /// The signature did not verify: a wrong APPKEY, or a clock far off.
        case signature
        /// The account cannot go on; `fix` says what a person should do.
        case account(fix: String)
        case unrecognised
    }

    static let clockFix = "sync the clock (e.g. timedatectl set-ntp true)"
    static let credentialsFix = "check GNAME_APPID and GNAME_APPKEY"
    /// How far the provider's `Date` may differ from ours before a signature failure is blamed on the clock.
    static let skewTolerance: Double = 60

    // MARK: wording

    static func kind(code: Int?, message: String) -> MessageKind {
        if code == -2 { return .already }
        let m = message.lowercased()
        func has(_ needles: String...) -> Bool { needles.contains { m.contains($0) } }
        func word(_ w: String) -> Bool { m.range(of: "\\b\(w)\\b", options: .regularExpression) != nil }

        // Rate limits first: "too frequent from this IP" is a pause, not a whitelist problem.
        if has("frequen", "too many", "too fast", "rate limit", "频繁") { return .busy }
        if has("already", "已预订", "已经预订", "已提交", "重复") && !has("registered", "已注册") { return .already }
        let aboutTheDomain = has("domain", "delet", "drop", "域名", "删除")
        if has("gntime", "timestamp", "时间戳") || ((word("time") || has("时间")) && !aboutTheDomain) { return .clock }
        if has("sign", "verif", "token", "签名", "校验", "验证") { return .signature }
        if word("ip") || has("whitelist", "white list", "白名单") {
            return .account(fix: "allow this machine's public IP in the Gname API settings (IP whitelist)")
        }
        if has("balance", "insufficient", "fund", "recharge", "余额", "不足", "充值") {
            return .account(fix: "top up the Gname account balance (every backorder freezes a deposit)")
        }
        if has("appid", "app id", "appkey", "app key") { return .account(fix: credentialsFix) }
        if has("auth", "permission", "denied", "forbidden", "login", "权限", "禁用")
            || (has("account", "账户", "账号") && has("disabled", "locked", "frozen", "suspend", "banned", "closed", "冻结", "锁定"))
        {
            return .account(fix: "check that API access is enabled for the Gname account, and GNAME_APPID/GNAME_APPKEY")
        }
        // "Busy, try again later" only after the account checks: "insufficient balance, try again later" must halt.
        if has("busy", "try again later", "繁忙", "稍后") { return .busy }
        let aboutSuffix = has("support", "suffix", "tld", "后缀", "支持")
        if (has("channel", "通道") || word("td")) && !aboutSuffix {
            return .account(fix: "check GNAME_CHANNEL (Gname's backorder channel, td)")
        }
        if aboutSuffix
            || has(
                "delet", "reserved", "premium", "registered", "cannot be backordered", "can't be backordered",
                "budget", "price", "删除", "价格")
        {
            return .domainProblem
        }
        // Generic failure words are a verdict on the domain only when the message names the domain.
        if has("domain", "域名") || word("ym"),
            has(
                "not found", "isn't found", "not exist", "doesn't exist", "does not exist", "no such", "not in",
                "format", "invalid", "incorrect", "illegal", "不存在", "格式", "无效", "不正确")
        {
            return .domainProblem
        }
        return .unrecognised
    }

    // MARK: clock

    /// Seconds between the provider's `Date` header and `now` (positive: our clock is behind); nil without a readable header.
    static func clockSkew(_ response: HTTPResponse, now: Date) -> Double? {
        guard let raw = response.headers["date"], let date = HTTPDate.parse(raw) else { return nil }
        return date.timeIntervalSince(now)
    }

    /// The halt for a refused signature or request time, blaming the clock when it is plausibly off.
    static func signatureHalt(_ kind: MessageKind, message: String, skew: Double?) -> (reason: String, fix: String) {
        let said = "Gname said: \(quoted(message))"
        if let skew, abs(skew) > skewTolerance {
            return ("clock skew: this machine's clock is \(Int(abs(skew).rounded())) s off the provider's (\(said))", clockFix)
        }
        if kind == .clock {
            let measured = skew.map { "; the provider's Date header differs by \(Int(abs($0).rounded())) s" } ?? ""
            return ("clock skew: Gname refused the request time (\(said)\(measured))", clockFix)
        }
        return ("Gname refused the request signature (\(said))", "\(credentialsFix); if they are right, check this machine's clock")
    }

    // MARK: transport and HTTP

    static func transportFailure(_ error: TransportError) -> SubmitResult {
        .transportFailure(error, provider: "Gname")
    }

    /// The outcome decided by the HTTP status alone, or nil when the body must decide.
    static func httpFailure(_ response: HTTPResponse, path: String, now: Date) -> SubmitResult? {
        let status = response.status
        let reading = HTTPStatusReading(response, now: now)
        switch reading.kind {
        case .success:
            return nil
        case .refused(let wait):
            return .refused(reason: reading.answered(by: "Gname"), retryAfterSeconds: wait)
        case .serverError:
            return .maybeProcessed(reason: "\(reading.answered(by: "Gname"))\(snippet(response))")
        case .endpointProblem, .other:
            break
        }
        // A 4xx carrying Gname's own envelope is judged by its message.
        if GnameAnswer.parse(response.body) != nil { return nil }
        switch status {
        case 401, 403:
            return .halt(
                reason: "Gname refused access (HTTP \(status))",
                fix: "check GNAME_APPID/GNAME_APPKEY and that this machine's public IP is whitelisted at Gname")
        case 404, 405:
            return .halt(reason: "Gname answered HTTP \(status) for \(path)", fix: "check GNAME_ENDPOINT")
        default:
            return .maybeProcessed(reason: "Gname answered HTTP \(status)\(snippet(response))")
        }
    }

    // MARK: creates

    /// `/api/backorder/add` (one domain) or `/api/backorder/bulk` (`bulk`: any number up to 100).
    static func classifySubmit(_ response: HTTPResponse, domains: [DomainName], bulk: Bool, now: Date) -> SubmitResult {
        let path = bulk ? "/api/backorder/bulk" : "/api/backorder/add"
        if let decided = httpFailure(response, path: path, now: now) { return decided }
        guard let answer = GnameAnswer.parse(response.body) else {
            return .maybeProcessed(reason: "Gname's answer (HTTP \(response.status)) is not its JSON envelope\(snippet(response))")
        }
        if answer.code == 1 {
            if bulk, let items = answer.bulkItems { return classifyBulkItems(items, domains: domains, skew: clockSkew(response, now: now)) }
            if domains.count == 1 {
                return .settled([domains[0]: .accepted(reference: nil, message: acceptedMessage(answer.message, deposit: answer.dataText))])
            }
            return .maybeProcessed(reason: "Gname's bulk answer lists no per-domain results (\(quoted(answer.message)))")
        }
        return classifyFailure(answer, domains: domains, skew: clockSkew(response, now: now))
    }

    /// A create whose envelope says it failed as a whole.
    static func classifyFailure(_ answer: GnameAnswer, domains: [DomainName], skew: Double?) -> SubmitResult {
        let message = answer.message
        let kind = kind(code: answer.code, message: message)
        let verdict: Verdict
        switch kind {
        case .already:
            verdict = .already(reference: nil, message: message)
        case .domainProblem:
            verdict = .rejected(message: message)
        case .busy:
            return .refused(reason: "Gname is busy or rate limiting: \(quoted(message))", retryAfterSeconds: nil)
        case .clock, .signature:
            let halt = signatureHalt(kind, message: message, skew: skew)
            return .halt(reason: halt.reason, fix: halt.fix)
        case .account(let fix):
            return .halt(reason: "Gname refused the account: \(quoted(message))", fix: fix)
        case .unrecognised:
            let code = answer.code.map(String.init) ?? "none"
            return .maybeProcessed(reason: "Gname answered code \(code), \(quoted(message)), which bo-batch does not recognise; checking before any resend")
        }
        if domains.count == 1 { return .settled([domains[0]: verdict]) }
        return .batchFailed(reason: "Gname refused the bulk request: \(quoted(message))", verdictIfAlone: verdict)
    }

    /// A successful bulk envelope: one verdict per domain Gname listed.
    ///
    /// An `err` item is explicitly not placed, so an unrecognised wording there is `rejected` with Gname's words
    /// (no money is at stake). Items that concern the account or a busy system cannot be settled: when nothing in
    /// the call was placed the whole call halts or is refused; otherwise they are left out of the verdicts and
    /// the lane settles them by lookup before sending them again, as it does for domains the answer omits.
    static func classifyBulkItems(_ items: [GnameAnswer.BulkItem], domains: [DomainName], skew: Double?) -> SubmitResult {
        let asked = Set(domains)
        var verdicts: [DomainName: Verdict] = [:]
        var halt: (reason: String, fix: String)?
        var busy: String?
        for item in items {
            let domain = DomainName(validatedASCII: normalized(item.domain))
            guard asked.contains(domain), verdicts[domain] == nil else { continue }
            if item.listedOK && (item.code == nil || item.code == 1) {
                verdicts[domain] = .accepted(reference: nil, message: acceptedMessage(item.message, deposit: item.dataText))
                continue
            }
            let kind = kind(code: item.code, message: item.message)
            switch kind {
            case .already:
                verdicts[domain] = .already(reference: nil, message: item.message)
            case .domainProblem:
                verdicts[domain] = .rejected(message: item.message)
            case .unrecognised:
                verdicts[domain] = .rejected(message: "Gname did not place it: \(quoted(item.message))")
            case .busy:
                busy = busy ?? item.message
            case .clock, .signature:
                halt = halt ?? signatureHalt(kind, message: item.message, skew: skew)
            case .account(let fix):
                halt = halt ?? ("Gname refused the account: \(quoted(item.message))", fix)
            }
        }
        let placed = verdicts.values.contains { if case .accepted = $0 { true } else { false } }
        if !placed, let halt { return .halt(reason: halt.reason, fix: halt.fix) }
        if !placed, let busy { return .refused(reason: "Gname is busy or rate limiting: \(quoted(busy))", retryAfterSeconds: nil) }
        if verdicts.isEmpty { return .maybeProcessed(reason: "Gname's bulk answer does not mention the domains sent") }
        return .settled(verdicts)
    }

    // MARK: lookups

    /// `/api/backorder/info` for one domain.
    static func classifyInfo(_ response: HTTPResponse, domain: DomainName, now: Date) -> GnameStatusLookup {
        if let decided = httpFailure(response, path: "/api/backorder/info", now: now) {
            switch decided {
            case .halt(let reason, let fix): return .halt(reason: reason, fix: fix)
            // A refusal (429, 503 with Retry-After) and a 5xx alike: this lookup did not work, nothing more.
            case .refused(let reason, _), .maybeProcessed(let reason): return .unavailable(reason: "backorder/info: \(reason)")
            case .settled, .batchFailed: return .unavailable(reason: "Gname answered HTTP \(response.status) to backorder/info")
            }
        }
        guard let answer = GnameAnswer.parse(response.body) else {
            return .unavailable(reason: "Gname's backorder/info answer is not its JSON envelope\(snippet(response))")
        }
        if answer.code == 1 {
            guard let info = answer.info, !info.id.isEmpty || !info.domain.isEmpty else {
                return .absent(message: answer.message.isEmpty ? "no backorder record" : answer.message)
            }
            if !info.domain.isEmpty, normalized(info.domain) != domain.ascii {
                return .unavailable(reason: "Gname's backorder/info answered about \(info.domain) when asked about \(domain.ascii)")
            }
            return .found(info)
        }
        let kind = kind(code: answer.code, message: answer.message)
        switch kind {
        case .busy:
            return .unavailable(reason: "Gname is busy or rate limiting: \(quoted(answer.message))")
        case .clock, .signature:
            let halt = signatureHalt(kind, message: answer.message, skew: clockSkew(response, now: now))
            return .halt(reason: halt.reason, fix: halt.fix)
        case .account(let fix):
            return .halt(reason: "Gname refused the account: \(quoted(answer.message))", fix: fix)
        case .already, .domainProblem, .unrecognised:
            break
        }
        let m = answer.message.lowercased()
        let noRecord = [
            "no record", "not found", "isn't found", "not exist", "doesn't exist", "does not exist", "no data",
            "no backorder", "format", "无记录", "不存在", "没有", "格式",
        ]
        if noRecord.contains(where: { m.contains($0) }) { return .absent(message: answer.message) }
        return .unavailable(reason: "Gname's backorder/info answered code \(answer.code.map(String.init) ?? "none"), \(quoted(answer.message))")
    }

    // MARK: wording helpers

    static func acceptedMessage(_ message: String, deposit: String?) -> String {
        let base = message.isEmpty ? "backorder placed" : message
        guard let deposit else { return base }
        return "\(base); deposit frozen: \(deposit)"
    }

    static func normalized(_ domain: String) -> String {
        var d = domain.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        while d.hasSuffix(".") { d.removeLast() }
        return d
    }

    static func quoted(_ message: String) -> String {
        message.isEmpty ? "no message" : "“\(message)”"
    }

    /// The start of an unexpected body, so a person can see what answered (a proxy page, a maintenance notice).
    static func snippet(_ response: HTTPResponse) -> String {
        let text = response.bodyText.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard !text.isEmpty else { return "" }
        return ": " + (text.count > 160 ? text.prefix(160) + "…" : text)
    }
}
