import ArgumentParser
import BoBatch

/// `submit`'s filters, as options; ``DomainFilter`` holds their meaning. Every filter may be combined with the
/// others: a name must pass them all. The config file's `[filters]` give each one its default (``make(over:)``).
struct FilterOptions: ParsableArguments {
    @Option(name: .customLong("tld"), help: ArgumentHelp("Keep only names under these TLDs or suffixes, comma-separated; may repeat (any of them). Whole labels: 'pl' keeps example.pl and example.com.pl, 'com.pl' only the latter. Unicode TLDs are accepted (рф = xn--p1ai).", valueName: "list"))
    var tld: [String] = []

    @Option(name: .customLong("exclude-tld"), help: ArgumentHelp("Leave out names under these TLDs or suffixes, comma-separated; may repeat.", valueName: "list"))
    var excludeTLD: [String] = []

    @Option(help: ArgumentHelp("Leave out names whose leftmost label (the registrable label of a drop list's names) is shorter than N characters. An IDN label (xn--) is counted in Unicode characters (code points) of its decoded form: xn--mnchen-3ya (münchen) is 7.", valueName: "n"))
    var minLength: Int?

    @Option(help: ArgumentHelp("Leave out names whose leftmost label is longer than N characters (counted as for --min-length).", valueName: "n"))
    var maxLength: Int?

    @Flag(help: "Leave out names whose leftmost label has a hyphen (in its Unicode form: an xn-- prefix does not count).")
    var noHyphens = false

    @Flag(help: "Leave out names whose leftmost label has a digit (in its Unicode form: an xn-- label's encoding does not count).")
    var noDigits = false

    @Flag(name: .customLong("no-idn"), help: "Leave out internationalized names: any label in xn-- form (after Unicode input is converted).")
    var noIDN = false

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Keep only names in which this regular expression (Swift Regex syntax) finds a match, searched in the lowercase ASCII name (xn-- form), unanchored: use ^ and $. May repeat (any of them).", valueName: "regex"))
    var match: [String] = []

    @Option(parsing: .unconditionalSingleValue, help: ArgumentHelp("Leave out names in which this regular expression finds a match (as for --match). May repeat.", valueName: "regex"))
    var exclude: [String] = []

    @Option(help: ArgumentHelp("Leave out every name listed in FILE (a blocklist, read like any input list: text or CSV). May repeat.", valueName: "file"))
    var excludeFile: [String] = []

    @Option(help: ArgumentHelp("Keep only names whose drop date (from the list) is on or after DATE (YYYY-MM-DD, a UTC day, or an ISO 8601 time). With this or --drop-before, a name without a drop date is left out (reason no-drop-date).", valueName: "date"))
    var dropAfter: String?

    @Option(help: ArgumentHelp("Keep only names whose drop date is on or before DATE (the whole UTC day included).", valueName: "date"))
    var dropBefore: String?

    var settings: FilterSettings {
        var s = FilterSettings()
        s.tlds = tld
        s.excludeTLDs = excludeTLD
        s.minLength = minLength
        s.maxLength = maxLength
        s.noHyphens = noHyphens
        s.noDigits = noDigits
        s.noIDN = noIDN
        s.match = match
        s.exclude = exclude
        s.excludeFiles = excludeFile
        s.dropAfter = dropAfter
        s.dropBefore = dropBefore
        return s
    }

    /// The compiled filter, nil when none is set; a bad one ends the invocation with 2 before anything is read.
    /// `file`: the config file's filters, each used where its option is not given (a flag cannot switch off a
    /// file's `no_hyphens = true`; edit the file, or use --config with another).
    func make(over file: FilterSettings = FilterSettings()) throws -> DomainFilter? {
        var settings = settings
        if settings.tlds.isEmpty { settings.tlds = file.tlds }
        if settings.excludeTLDs.isEmpty { settings.excludeTLDs = file.excludeTLDs }
        settings.minLength = settings.minLength ?? file.minLength
        settings.maxLength = settings.maxLength ?? file.maxLength
        settings.noHyphens = settings.noHyphens || file.noHyphens
        settings.noDigits = settings.noDigits || file.noDigits
        settings.noIDN = settings.noIDN || file.noIDN
        if settings.match.isEmpty { settings.match = file.match }
        if settings.exclude.isEmpty { settings.exclude = file.exclude }
        if settings.excludeFiles.isEmpty { settings.excludeFiles = file.excludeFiles }
        settings.dropAfter = settings.dropAfter ?? file.dropAfter
        settings.dropBefore = settings.dropBefore ?? file.dropBefore
        guard !settings.isEmpty else { return nil }
        do {
            let filter = try DomainFilter(settings)
            for note in filter.notes { Terminal.error("bo-batch: \(note)") }
            return filter
        } catch {
            Terminal.error("bo-batch: \(error.message)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
    }
}
