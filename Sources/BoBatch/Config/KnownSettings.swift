import Foundation

/// One setting bo-batch knows: its key in the config file, the environment variable it stands for (nil when it
/// is only a flag's default), whether it is secret, and what it means.
///
/// The config file is translated into these variables and layered *under* the real environment
/// (``EffectiveSettings``), so every reader of a variable keeps working unchanged and nothing is read two ways.
/// `KnownSettingsTests` checks that every variable the sources read is here, and README's key table agrees.
public struct KnownSetting: Sendable, Equatable {
    /// The TOML type a key takes. Values become the variable's text: integers and numbers as written, booleans
    /// `1`/`0`, lists (filters and caps) a list of strings.
    public enum ValueType: Sendable, Equatable {
        case text, integer, number, boolean
        /// A string or an array of strings (integers are taken as their digits: `max_domains = 500`).
        case list

        public var description: String {
            switch self {
            case .text: "a string"
            case .integer: "an integer"
            case .number: "a number"
            case .boolean: "true or false"
            case .list: "a string or an array of strings"
            }
        }

        public var example: String {
            switch self {
            case .text: "\"…\""
            case .integer: "5"
            case .number: "600"
            case .boolean: "true"
            case .list: "[\"…\", \"…\"]"
            }
        }
    }

    /// `section.name`, e.g. `dynadot.api_key`.
    public let key: String
    /// The environment variable, e.g. `DYNADOT_API_KEY`; nil for a setting that only gives a flag its default.
    public let variable: String?
    /// The flag that wins over it, if any.
    public let flag: String?
    public let type: ValueType
    /// A credential that must never be shown, and makes a file holding it inline need mode 600.
    public let secret: Bool
    /// What happens when it is not set.
    public let fallback: String
    public let doc: String

    public var section: String { String(key.split(separator: ".").first!) }
    public var name: String { String(key.split(separator: ".").last!) }

    init(_ key: String, _ variable: String?, _ type: ValueType, flag: String? = nil, secret: Bool = false, fallback: String = "unset", _ doc: String) {
        self.key = key
        self.variable = variable
        self.flag = flag
        self.type = type
        self.secret = secret
        self.fallback = fallback
        self.doc = doc
    }
}

/// Every setting, in the order `config check` and README list them.
public enum KnownSettings {
    /// Sections, in order. One table per provider: one account per provider (see README, "Config file").
    public static let sections = ["defaults", "http", "dynadot", "gname", "yay", "oneapi", "dnspod", "filters", "caps"]

    public static let all: [KnownSetting] = general + providers + filters + caps

    static let general: [KnownSetting] = [
        .init("defaults.state", "BO_BATCH_STATE_DIR", .text, flag: "--state", fallback: "$XDG_STATE_HOME/bo-batch, else ~/.local/state/bo-batch",
              "state directory holding the ledger"),
        .init("defaults.results", nil, .text, flag: "--out", fallback: "results",
              "folder each run's results go under: DIR/RUN (DIR/sandbox/RUN with --sandbox)"),
        .init("defaults.remember_days", nil, .integer, flag: "--remember-days", fallback: "30",
              "days an earlier run's placement keeps a domain from being sent again to the same provider (0-3650)"),
        .init("http.timeout", "BO_BATCH_TIMEOUT", .number, fallback: "each request's own limit", "cap on every request's time limit, in seconds (0.1-3600)"),
        .init("http.contact", "BO_BATCH_CONTACT", .text, fallback: "bo-batch@users.noreply.github.com", "contact address in the User-Agent (DNSPod requires one)"),
        .init("http.ca_file", "BO_BATCH_CA_FILE", .text, fallback: "the system CA store", "PEM file of CA certificates trusted instead of the system store"),
    ]

    /// Credentials: the value, or `NAME_FILE` naming a file that holds it (first line, mode 600).
    static func credential(_ key: String, _ variable: String, secret: Bool, _ doc: String) -> [KnownSetting] {
        [
            .init(key, variable, .text, secret: secret, doc),
            .init("\(key)_file", "\(variable)_FILE", .text, "file holding \(key.split(separator: ".").last!) (first line; mode 600)"),
        ]
    }

    /// `threads`, `rate`, `endpoint` of a provider.
    static func common(_ section: String, endpoint: String, pacing: String) -> [KnownSetting] {
        let prefix = section.uppercased()
        return [
            .init("\(section).endpoint", "\(prefix)_ENDPOINT", .text, fallback: endpoint, "API endpoint (http or https URL)"),
            .init("\(section).threads", "\(prefix)_THREADS", .integer, fallback: pacing, "requests in flight at once (1-64)"),
            .init("\(section).rate", "\(prefix)_RATE", .number, fallback: pacing, "request starts per minute"),
        ]
    }

    static let providers: [KnownSetting] =
        credential("dynadot.api_key", "DYNADOT_API_KEY", secret: true, "API key")
        + [
            .init("dynadot.account", "DYNADOT_ACCOUNT", .text, fallback: "regular", "account tier: regular, bulk or super-bulk (sets the pacing)"),
            .init("dynadot.price", "DYNADOT_PRICE", .text, "price paid on a catch, AMOUNT CURRENCY ('8.00 USD')"),
        ]
        + common("dynadot", endpoint: DynadotConfig.defaultEndpoint, pacing: "by account tier")
        + credential("gname.appid", "GNAME_APPID", secret: false, "APPID")
        + credential("gname.appkey", "GNAME_APPKEY", secret: true, "APPKEY (signs every call)")
        + [
            .init("gname.channel", "GNAME_CHANNEL", .text, fallback: "1", "the td channel number"),
            .init("gname.max_price", "GNAME_MAX_PRICE", .text, fallback: "Gname's default", "most frozen per domain, sent as qian: '10.50' or '10.50 USD'"),
            .init("gname.bulk", "GNAME_BULK", .boolean, fallback: "false", "use /api/backorder/bulk (up to 100 per call)"),
        ]
        + common("gname", endpoint: GnameConfig.defaultEndpoint, pacing: "1 at a time, 20/min")
        + credential("yay.reseller", "YAY_RESELLER", secret: false, "reseller id")
        + credential("yay.user", "YAY_USER", secret: false, "user")
        + credential("yay.password", "YAY_PASSWORD", secret: true, "password")
        + [.init("yay.price", "YAY_PRICE", .text, "price charged per POST, AMOUNT CURRENCY ('2.50 GBP')")]
        + common("yay", endpoint: YayConfig.defaultEndpoint, pacing: "1 at a time, 30/min")
        + credential("oneapi.login", "ONEAPI_LOGIN", secret: false, "login")
        + credential("oneapi.password", "ONEAPI_PASSWORD", secret: true, "password")
        + [
            .init("oneapi.entity", "ONEAPI_ENTITY", .text, fallback: "54cd", "54cd (live) or 1234 (1API's test system)"),
            .init("oneapi.cutoff_hours", "ONEAPI_CUTOFF_HOURS", .number, fallback: "3", "hours before the drop after which 1API is skipped (0-72)"),
            .init("oneapi.price", "ONEAPI_PRICE", .text, "deposit per application, AMOUNT CURRENCY"),
        ]
        + common("oneapi", endpoint: OneAPIConfig.defaultEndpoint, pacing: "1 at a time, 30/min")
        + credential("dnspod.login_token", "DNSPOD_LOGIN_TOKEN", secret: true, "login token, ID,token")
        + [
            .init("dnspod.email", "DNSPOD_EMAIL", .text, "address the code is mailed to when the input has no email column"),
            .init("dnspod.email_auto", "DNSPOD_EMAIL_AUTO", .boolean, fallback: "false", "use the first address Domain.Acquire offers"),
        ]
        + common("dnspod", endpoint: DNSPodConfig.defaultEndpoint, pacing: "1 at a time, 6/min")

    static let filters: [KnownSetting] = [
        .init("filters.tld", nil, .list, flag: "--tld", "keep only names under these TLDs or suffixes"),
        .init("filters.exclude_tld", nil, .list, flag: "--exclude-tld", "leave out names under these TLDs or suffixes"),
        .init("filters.min_length", nil, .integer, flag: "--min-length", "leave out names whose leftmost label is shorter"),
        .init("filters.max_length", nil, .integer, flag: "--max-length", "leave out names whose leftmost label is longer"),
        .init("filters.no_hyphens", nil, .boolean, flag: "--no-hyphens", fallback: "false", "leave out names whose leftmost label has a hyphen"),
        .init("filters.no_digits", nil, .boolean, flag: "--no-digits", fallback: "false", "leave out names whose leftmost label has a digit"),
        .init("filters.no_idn", nil, .boolean, flag: "--no-idn", fallback: "false", "leave out internationalized names"),
        .init("filters.match", nil, .list, flag: "--match", "keep only names one of these regular expressions finds"),
        .init("filters.exclude", nil, .list, flag: "--exclude", "leave out names any of these regular expressions finds"),
        .init("filters.exclude_file", nil, .list, flag: "--exclude-file", "blocklists: leave out every name they list"),
        .init("filters.drop_after", nil, .text, flag: "--drop-after", "keep only names dropping on or after this date"),
        .init("filters.drop_before", nil, .text, flag: "--drop-before", "keep only names dropping on or before this date"),
    ]

    static let caps: [KnownSetting] = [
        .init("caps.max_domains", nil, .list, flag: "--max-domains", "most domains each provider may be sent per run: N, or 'provider=N' entries"),
        .init("caps.max_spend", nil, .list, flag: "--max-spend", "most a run may cost or freeze: '20GBP', or 'provider=20GBP' entries"),
        .init("caps.mode", nil, .text, flag: "--cap-mode", fallback: "stop", "stop or first: what a plan over a cap does"),
    ]

    public static let byKey: [String: KnownSetting] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// Variables read only to refuse them with the right name to use instead (see ``PriceList``).
    public static let refusedVariables = ["GNAME_PRICE", "DNSPOD_PRICE"]

    /// The secret and its `_FILE` form are one setting: the environment giving either one hides both in the file.
    static func group(of variable: String) -> [String] {
        variable.hasSuffix("_FILE") ? [variable, String(variable.dropLast(5))] : [variable, variable + "_FILE"]
    }

    /// The known key nearest to `key` (a full path such as `dynadot.treads`, or a bare name at the top), when
    /// one is near enough to be a likely typo: by the whole path, or by the name alone in any section (so
    /// `[defaults] tld` suggests `filters.tld`).
    public static func nearest(to key: String) -> String? {
        let parts = key.split(separator: ".").map(String.init)
        let leaf = parts.last ?? key
        let section = parts.count > 1 ? parts[0] : ""
        var best: (key: String, score: Int)?
        for setting in all {
            let whole = EditDistance.between(key, setting.key)
            let byName = EditDistance.between(leaf, setting.name) + (setting.section == section ? 0 : 1)
            let score = min(whole, byName)
            if best == nil || score < best!.score { best = (setting.key, score) }
        }
        guard let best, best.score <= max(2, leaf.count / 3) else { return nil }
        return best.key
    }

    /// The known section nearest to `name`, as for keys.
    public static func nearestSection(to name: String) -> String? {
        let scored = sections.map { ($0, EditDistance.between(name, $0)) }.min { $0.1 < $1.1 }
        guard let scored, scored.1 <= max(2, name.count / 3) else { return nil }
        return scored.0
    }
}

/// Levenshtein distance, for "did you mean" (keys are short: the quadratic table is nothing).
enum EditDistance {
    static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
