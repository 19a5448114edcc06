import BoBatch

/// The summary's lines about filtered input: nothing when no line was filtered.
enum FilterSummary {
    static func lines(_ input: RunSummary.InputSummary) -> String {
        guard input.filtered > 0 else { return "" }
        let reasons = input.filteredByReason.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        var out = "  filtered out: \(input.filtered) lines (\(reasons); see filtered.tsv)\n"
        if input.filteredInRun > 0 {
            out += "  note: \(input.filteredInRun) filtered name(s) are in the run all the same (an earlier invocation read them, or another line kept them); start a new --run to apply the filters to them\n"
        }
        return out
    }
}
