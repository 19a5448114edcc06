import Foundation

extension SubmitJob {
    /// Writes `report.html` beside `summary.json` (``RunReport``). Never throws: a report that cannot be made or
    /// written is returned, to be recorded as an unwritten result file (exit 1, a rerun writes it), because the
    /// ledger and the other result files already hold everything it would say.
    func writeReport(summary: RunSummary) -> ResultFileFailure? {
        do {
            try writer.writeReport(try RunReport.load(ledger: ledger, run: plan.run, summary: summary).html())
            return nil
        } catch let failure as ResultFileFailure {
            return failure
        } catch {
            return ResultFileFailure(file: (writer.directory as NSString).appendingPathComponent("report.html"), error: "cannot make the report: \(error)")
        }
    }
}
