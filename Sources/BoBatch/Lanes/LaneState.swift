import Foundation

/// The lane's shared bookkeeping.
actor LaneState {
    private var report: LaneReport
    private var busyCheckNeeded = false
    private var total = 0
    private var doneAtStart = 0
    private var doneNow = 0
    private let started: Double

    init(provider: ProviderID, started: Double) {
        report = LaneReport(provider: provider)
        self.started = started
    }

    var halt: (reason: String, fix: String)? { report.halt }
    func setHalt(reason: String, fix: String) { if report.halt == nil { report.halt = (reason, fix) } }
    func needBusyCheck() { busyCheckNeeded = true }
    func takeBusyCheck() -> Bool {
        defer { busyCheckNeeded = false }
        return busyCheckNeeded
    }
    func countCreate() { report.creates += 1 }
    func countLookup() { report.lookups += 1 }
    func countBusyPoll() { report.busyPolls += 1 }
    func countFailure(_ kind: String) { report.failures[kind, default: 0] += 1 }
    func setTotals(total: Int, done: Int) {
        self.total = total
        doneAtStart = done
    }
    func settled(_ n: Int) { doneNow += n }
    func finalReport() -> LaneReport { report }
    func progress() -> LaneProgress {
        LaneProgress(provider: report.provider, total: total, done: doneAtStart + doneNow, doneThisInvocation: doneNow, startedAt: started, halted: report.halt != nil, pacer: nil)
    }
}
