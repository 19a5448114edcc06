import Foundation

/// `bo-batch reclaim RUN`: DNSPod's get-domain-back (`Domain.Acquiresend`) for every domain the run caught, so
/// that a domain whose old owner still hosts its DNS at DNSPod can be moved to this account. Not a backorder.
///
/// It is `submit` with the DNSPod lane only, over a run of its own: `RUN+reclaim`, whose domains are the won
/// domains of `RUN` (each with the email and drop time RUN's input gave it). Everything `submit` guarantees for
/// DNSPod comes with it unchanged (the intent committed before the send, at most one send without an answer,
/// `kill -9` and signals, exit codes), and the pair `(RUN+reclaim, dnspod, domain)` never meets the pair
/// `(RUN, dnspod, domain)` a submit to DNSPod may have made before the drop: that code went to the old owner.
/// A rerun adds the domains won since (a later `refresh`) and sends nothing twice.
public final class ReclaimJob: Sendable {
    /// `RUN+reclaim`. `+` is not a name `submit` makes (it names runs after files), and a run named so by hand
    /// is refused as a reclaim source.
    public static let suffix = "+reclaim"

    public static func derivedRun(of run: String) -> String { run + suffix }

    /// The `reclaim/` folder inside the run's results directory.
    public static func resultsDirectory(runResults: String) -> String {
        (runResults as NSString).appendingPathComponent("reclaim")
    }

    public let sourceRun: String
    public let job: SubmitJob

    /// `dnspod` is the DNSPod lane (any other lane is a programming error: reclaim sends nothing else).
    public init(run: String, runResults: String, dnspod: LaneSetup, ledger: Ledger, clock: any LaneClock = SystemLaneClock()) throws {
        precondition(dnspod.provider.id == .dnspod, "reclaim runs the DNSPod lane only")
        sourceRun = run
        // rememberDays 0: another run's DNSPod placement of the same name (typically RUN's own, sent before the
        // drop to the old owner's address) must not keep the one that matters now from being sent.
        let plan = SubmitPlan(
            run: Self.derivedRun(of: run), inputs: [run], inputOptions: InputOptions(),
            resultsDirectory: Self.resultsDirectory(runResults: runResults), rememberDays: 0, lanes: [dnspod])
        job = try SubmitJob(plan: plan, ledger: ledger, clock: clock)
    }

    /// Records `won` (``Ledger/wonDomains(run:)`` of the source run) as the derived run's input, in one ledger
    /// transaction as `submit` reads a list, and makes the new ones pending at DNSPod. Domains already in the
    /// derived run keep their pair as it is: nothing settled is sent again.
    public func ingest(won: [WonDomain]) throws -> RunSummary.InputSummary {
        let ledger = job.ledger
        let run = job.plan.run
        try ledger.openRun(run)
        let tally = try ledger.ingestInput(run: run) { sink in
            for w in won {
                try sink.add(
                    domain: w.domain, input: w.input, file: "\(sourceRun) (won at \(w.wonAt.map(\.rawValue).joined(separator: ", ")))", line: nil,
                    attributes: w.attributes)
            }
        }
        try ledger.preparePairs(run: run, providers: [.dnspod], rememberSince: .distantFuture)
        return RunSummary.InputSummary(
            files: [sourceRun], linesRead: won.count, domains: try ledger.domainCount(run: run), newDomains: tally.new,
            duplicates: won.count - tally.distinct, invalid: 0)
    }
}
