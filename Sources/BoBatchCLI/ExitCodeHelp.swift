import BoBatch

/// The exit-code table of `bo-batch --help` and `submit --help`, generated from ``ExitStatus`` (code and
/// meaning) so the help, README.md's table and summary.json cannot drift apart.
enum ExitCodeHelp {
    static let table = render(width: 78)
    /// The same for `refresh` and `cancel` (``ExitStatus/followUpMeaning``).
    static let followUpTable = render(width: 78, meaning: \.followUpMeaning)

    /// "  0   meaning…", wrapped to `width` with continuation lines under the meaning.
    static func render(width: Int, meaning: KeyPath<ExitStatus, String> = \.meaning) -> String {
        let indent = "      "
        return ExitStatus.allCases.map { status in
            var lines: [String] = []
            var line = "  " + String(status.rawValue).padding(toLength: 4, withPad: " ", startingAt: 0)
            var lineHasWord = false
            for word in status[keyPath: meaning].split(separator: " ") {
                if lineHasWord, line.count + 1 + word.count > width {
                    lines.append(line)
                    line = indent
                    lineHasWord = false
                }
                line += (lineHasWord ? " " : "") + word
                lineHasWord = true
            }
            lines.append(line)
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
