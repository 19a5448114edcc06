import Foundation
import Testing

@testable import BoBatch

/// The config file: parsing and type checks, unknown keys with the nearest known one, the permission refusal for
/// inline secrets, and the layering under the environment (flags > env > file).
@Suite struct ConfigFileTests {
    static let sample = """
        # bo-batch config
        [defaults]
        state = "/var/lib/bo-batch"
        results = "/srv/results"
        remember_days = 14

        [http]
        timeout = 45.5
        contact = "ops@example.com"

        [dynadot]
        api_key = "dyn-secret-123"
        account = "bulk"
        threads = 3
        rate = 120
        price = "8.00 USD"

        [gname]
        bulk = true

        [filters]
        tld = ["com", "net"]
        min_length = 4
        no_hyphens = true

        [caps]
        max_domains = 500
        max_spend = ["yay=20GBP", "50USD"]
        mode = "first"
        """

    func write(_ text: String, mode: mode_t) -> String {
        let dir = TestPaths.temporaryDirectory("config")
        let path = "\(dir)/config.toml"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        chmod(path, mode)
        return path
    }

    func parseError(_ text: String) -> String? {
        do {
            _ = try ConfigFile.parse(text, path: "/etc/bo.toml")
            return nil
        } catch {
            return error.message
        }
    }

    @Test func everyKindOfValueBecomesTheVariableItStandsFor() throws {
        let file = try ConfigFile.parse(Self.sample, path: "/etc/bo.toml")
        let env = EffectiveSettings.layer([:], under: file)
        #expect(env["BO_BATCH_STATE_DIR"] == "/var/lib/bo-batch")
        #expect(env["BO_BATCH_TIMEOUT"] == "45.5")
        #expect(env["DYNADOT_API_KEY"] == "dyn-secret-123")
        #expect(env["DYNADOT_THREADS"] == "3")
        #expect(env["DYNADOT_RATE"] == "120")
        #expect(env["GNAME_BULK"] == "1")
        #expect(env["DYNADOT_PRICE"] == "8.00 USD")
        // Flag-only settings are no variables.
        #expect(env.count == 9, "\(env.keys.sorted())")
        let settings = EffectiveSettings(location: ConfigLocation(path: "/etc/bo.toml", origin: .flag), file: file, realEnvironment: [:])
        #expect(try settings.rememberDays() == 14)
        #expect(settings.resultsDirectory(run: "drops", sandbox: true) == "/srv/results/sandbox/drops")
        let filters = try settings.fileFilters()
        #expect(filters.tlds == ["com", "net"] && filters.minLength == 4 && filters.noHyphens && !filters.noDigits)
        let caps = settings.fileCaps()
        #expect(caps.maxDomains == ["500"] && caps.maxSpend == ["yay=20GBP", "50USD"] && caps.mode == "first")
        // And the providers read it as they read the environment.
        let dynadot = try #require(try DynadotConfig.fromEnvironment(settings.environment))
        #expect(dynadot.tier == .bulk && dynadot.apiKey == "dyn-secret-123")
    }

    @Test func theEnvironmentWinsOverTheFileAndASecretsFileFormHidesTheInlineOne() throws {
        let file = try ConfigFile.parse(Self.sample, path: "/etc/bo.toml")
        let real = ["DYNADOT_THREADS": "7", "DYNADOT_API_KEY_FILE": "/run/creds/dynadot", "BO_BATCH_TIMEOUT": "  "]
        let settings = EffectiveSettings(location: ConfigLocation(path: "/etc/bo.toml", origin: .flag), file: file, realEnvironment: real)
        #expect(settings.environment["DYNADOT_THREADS"] == "7")
        #expect(settings.environment["DYNADOT_API_KEY"] == nil, "the environment's key file must not lose to the file's inline key")
        #expect(settings.environment["DYNADOT_API_KEY_FILE"] == "/run/creds/dynadot")
        // A blank variable is unset, as every reader takes it: the file's value fills it.
        #expect(settings.environment["BO_BATCH_TIMEOUT"] == "45.5")
        let byKey = KnownSettings.byKey
        #expect(settings.source(of: byKey["dynadot.threads"]!) == .environment("DYNADOT_THREADS"))
        #expect(settings.source(of: byKey["dynadot.api_key"]!) == .overridden(file: "/etc/bo.toml", by: "DYNADOT_API_KEY_FILE"))
        #expect(settings.source(of: byKey["dynadot.account"]!) == .file("/etc/bo.toml"))
        #expect(settings.source(of: byKey["yay.user"]!) == .fallback)
        #expect(settings.source(of: byKey["defaults.results"]!) == .file("/etc/bo.toml"))
    }

    @Test func unknownKeysAndSectionsNameTheLineAndTheNearestKnownKey() {
        let typo = parseError("[defaults]\nstate = \"/x\"\n\n[dynadot]\ntreads = 5\n")
        #expect(typo == "/etc/bo.toml line 5: unknown key dynadot.treads; did you mean dynadot.threads?")
        let section = parseError("[dynadott]\napi_key = \"k\"\n")
        #expect(section == "/etc/bo.toml line 1: unknown section [dynadott]; did you mean [dynadot]?")
        // A key in the wrong section, or at the top: found by its name.
        #expect(parseError("[defaults]\ntld = [\"com\"]\n")?.contains("did you mean filters.tld?") == true)
        #expect(parseError("remember_days = 3\n")?.contains("line 1: unknown key 'remember_days'; did you mean defaults.remember_days") == true)
        // Nothing near: the section's keys are listed.
        let far = parseError("[caps]\nzzzzzzzzzz = 1\n")
        #expect(far?.contains("[caps] knows: max_domains, max_spend, mode") == true, "\(far ?? "")")
        // A second account is a table under a provider: said why it is not supported.
        let second = parseError("[dynadot.second]\napi_key = \"k\"\n")
        #expect(second?.contains("one account per provider") == true, "\(second ?? "")")
    }

    @Test func wrongTypesSayWhatIsExpected() {
        #expect(parseError("[dynadot]\nthreads = \"5\"\n") == "/etc/bo.toml line 2: dynadot.threads must be an integer (threads = 5), not a string")
        #expect(parseError("[gname]\nbulk = 1\n")?.contains("gname.bulk must be true or false") == true)
        #expect(parseError("[defaults]\nstate = 3\n")?.contains("defaults.state must be a string") == true)
        #expect(parseError("[filters]\ntld = [\"com\", 3.5]\n")?.contains("filters.tld must be a string or an array of strings") == true)
        // The value of a secret is never repeated, whatever is wrong with it.
        let secret = parseError("[yay]\npassword = 123456789\n")
        #expect(secret?.contains("123456789") == false)
        #expect(parseError("[dynadot]\napi_key = \"a\"\napi_key_file = \"/k\"\n")?.contains("both set") == true)
        let syntax = parseError("[dynadot\n")
        #expect(syntax?.hasPrefix("/etc/bo.toml line 1, column") == true, "\(syntax ?? "")")
    }

    @Test func aFileWithAnInlineSecretMustBePrivate() throws {
        let shared = write(Self.sample, mode: 0o644)
        #expect(throws: ConfigFileError("\(shared) holds a secret (dynadot.api_key) and is readable by group or others; run: chmod 600 \(shared)")) {
            try ConfigFile.load(path: shared)
        }
        let group = write(Self.sample, mode: 0o640)
        #expect(throws: ConfigFileError.self) { try ConfigFile.load(path: group) }
        #expect(try ConfigFile.load(path: write(Self.sample, mode: 0o600)).values["dynadot.api_key"] == .text("dyn-secret-123"))
        // A key file's path is no secret: such a file may be readable (the key file itself is checked when read).
        let paths = "[dynadot]\napi_key_file = \"/run/creds/dynadot\"\n[yay]\nuser = \"me\"\n"
        #expect(try ConfigFile.load(path: write(paths, mode: 0o644)).values.count == 2)
    }

    @Test func theFileIsFoundByFlagThenXDGThenHome() throws {
        #expect(ConfigLocation.resolve(flag: "/a.toml", environment: ["XDG_CONFIG_HOME": "/x"]) == ConfigLocation(path: "/a.toml", origin: .flag))
        #expect(ConfigLocation.resolve(flag: nil, environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"]).path == "/x/bo-batch/config.toml")
        #expect(ConfigLocation.resolve(flag: nil, environment: ["XDG_CONFIG_HOME": "", "HOME": "/h"]).path == "/h/.config/bo-batch/config.toml")
        let empty = TestPaths.temporaryDirectory("config-home")
        // None at the default location: fine, no file. A --config that is not there: an error naming it.
        #expect(try EffectiveSettings.load(configFlag: nil, environment: ["HOME": empty]).file == nil)
        #expect(throws: ConfigFileError("--config \(empty)/nope.toml: no such file")) {
            try EffectiveSettings.load(configFlag: "\(empty)/nope.toml", environment: ["HOME": empty])
        }
        let path = write("[defaults]\nresults = \"out\"\n", mode: 0o644)
        let xdg = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: "\(xdg)/bo-batch", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path, toPath: "\(xdg)/bo-batch/config.toml")
        #expect(try EffectiveSettings.load(configFlag: nil, environment: ["XDG_CONFIG_HOME": xdg]).file?.values["defaults.results"] == .text("out"))
    }

    @Test func aLeadingTildeInAPathIsTheHomeDirectory() throws {
        let file = try ConfigFile.parse("[defaults]\nstate = \"~/state\"\n[dynadot]\napi_key_file = \"~/k\"\naccount = \"~/x\"\n[filters]\nexclude_file = [\"~/b.txt\", \"rel.txt\"]\n", path: "/c.toml")
        let home = NSHomeDirectory()
        #expect(file.values["defaults.state"] == .text("\(home)/state"))
        #expect(file.values["dynadot.api_key_file"] == .text("\(home)/k"))
        #expect(file.values["dynadot.account"] == .text("~/x"), "not a path: as written")
        #expect(file.values["filters.exclude_file"] == .list(["\(home)/b.txt", "rel.txt"]))
    }

    @Test func flagOnlySettingsAreCheckedAsTheirFlags() throws {
        let file = try ConfigFile.parse("[defaults]\nremember_days = 9000\n[filters]\nmin_length = 0\n", path: "/c.toml")
        let settings = EffectiveSettings(location: ConfigLocation(path: "/c.toml", origin: .flag), file: file, realEnvironment: [:])
        #expect(throws: ConfigFileError("/c.toml: defaults.remember_days must be between 0 and 3650")) { try settings.rememberDays() }
        #expect(throws: ConfigFileError.self) { try settings.fileFilters() }
    }
}

/// One registry of settings, which the sources and README agree with.
@Suite struct KnownSettingsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every settings variable named in the sources (`BO_BATCH_*` and the providers' prefixes, as string
    /// literals) is a known setting, or one read only to be refused. `<P>_THREADS`/`_RATE` and `NAME_FILE` are
    /// built from a prefix, so they are checked per provider.
    @Test func everyVariableTheSourcesReadIsInTheRegistry() throws {
        let known = Set(KnownSettings.all.compactMap(\.variable) + KnownSettings.refusedVariables)
        let pattern = try Regex(#""((?:BO_BATCH|DYNADOT|GNAME|YAY|ONEAPI|DNSPOD)_[A-Z0-9_]+)""#)
        var found: Set<String> = []
        for module in ["BoBatch", "BoBatchCLI", "BoBatchHTTP"] {
            let dir = Self.root.appendingPathComponent("Sources/\(module)")
            let files = FileManager.default.enumerator(atPath: dir.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
            for file in files {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for match in text.matches(of: pattern) { found.insert(String(text[match.output[1].range!])) }
            }
        }
        #expect(found.count > 30, "the scan found too little: \(found.sorted())")
        #expect(found.subtracting(known).isEmpty, "read by the sources but not in KnownSettings: \(found.subtracting(known).sorted())")
        for id in ProviderID.allCases {
            let prefix = id.rawValue.uppercased()
            #expect(known.contains("\(prefix)_THREADS") && known.contains("\(prefix)_RATE") && known.contains("\(prefix)_ENDPOINT"))
            for variable in ProviderCatalog.credentialVariables(id) {
                #expect(known.contains(variable) && known.contains("\(variable)_FILE"), "\(variable)")
            }
        }
        for id in ProviderID.allCases { if let v = PriceList.variable(id) { #expect(known.contains(v)) } }
    }

    /// README's key table lists every key with its variable, and no key the registry lacks.
    @Test func readmeListsEveryKey() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "### Config file"))
        let section = String(readme[start.upperBound...].prefix { _ in true }).components(separatedBy: "\n## ").first!
        for setting in KnownSettings.all {
            let row = section.split(separator: "\n").first { $0.hasPrefix("| `\(setting.key)` |") }
            #expect(row != nil, "README's Config file table lacks \(setting.key)")
            if let row, let variable = setting.variable { #expect(row.contains("`\(variable)`"), "\(setting.key) row lacks \(variable)") }
            if let row, let flag = setting.flag { #expect(row.contains("`\(flag)`"), "\(setting.key) row lacks \(flag)") }
        }
        let listed = section.split(separator: "\n").filter { $0.hasPrefix("| `") }.compactMap { $0.split(separator: "`").dropFirst().first.map(String.init) }
        #expect(Set(listed).subtracting(KnownSettings.byKey.keys).isEmpty, "README lists unknown keys: \(Set(listed).subtracting(KnownSettings.byKey.keys))")
        let secrets = KnownSettings.all.filter(\.secret).map(\.key)
        #expect(secrets == ["dynadot.api_key", "gname.appkey", "yay.password", "oneapi.password", "dnspod.login_token"])
    }

    /// README's example file is a valid config file, with a key of every section.
    @Test func readmesExampleFileParses() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = String(readme[try #require(readme.range(of: "### Config file")).upperBound...])
        let block = try #require(section.components(separatedBy: "```toml\n").dropFirst().first?.components(separatedBy: "```").first)
        let file = try ConfigFile.parse(block, path: "README.md")
        #expect(Set(file.values.keys.map { String($0.split(separator: ".")[0]) }) == Set(KnownSettings.sections))
    }

    @Test func aContactMustBeAnAddressThatFitsTheUserAgent() {
        #expect(BoBatchVersion.checkedContact(" ops@example.com ") == "ops@example.com")
        #expect(BoBatchVersion.checkedContact("ops (night)@example.com") == "bo-batch@users.noreply.github.com")
        #expect(BoBatchVersion.checkedContact(nil) == "bo-batch@users.noreply.github.com")
    }

    @Test func nearestKeys() {
        #expect(KnownSettings.nearest(to: "dynadot.apikey") == "dynadot.api_key")
        #expect(KnownSettings.nearest(to: "oneapi.cutoff") == "oneapi.cutoff_hours" || KnownSettings.nearest(to: "oneapi.cutoff") == nil)
        #expect(KnownSettings.nearest(to: "gname.max_prise") == "gname.max_price")
        #expect(KnownSettings.nearestSection(to: "filter") == "filters")
        #expect(KnownSettings.nearest(to: "caps.qqqqqqqqqq") == nil)
    }
}
