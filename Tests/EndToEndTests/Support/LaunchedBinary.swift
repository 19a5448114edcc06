import BoBatch
import BoBatchSandbox
import Foundation
import Testing

/// The parent of the fault-injection end-to-end suites (crash/resume, signals, hostile answers and input,
/// account failure, secrets): serialized, so they run one at a time — each starts the real binary against an
/// in-process sandbox, and on a two-core machine running several at once only makes their timings noisy.
@Suite(.serialized) enum FaultInjectionEndToEndTests {}

/// The real binary started in the background, so a test can signal it (`kill -9`, SIGTERM, SIGINT) mid-run.
/// Its output goes to files (no pipe to drain, nothing blocks when it is killed); its exit is observed through
/// Foundation's termination handler, so no thread of the Swift concurrency pool ever blocks on it.
final class LaunchedBinary: @unchecked Sendable {
    struct Exit: Sendable, CustomStringConvertible {
        /// The exit code, or the signal number when `signaled`.
        var status: Int32
        var signaled: Bool
        var description: String { signaled ? "killed by signal \(status)" : "exit \(status)" }
    }

    let process = Process()
    let stdoutPath: String
    let stderrPath: String
    let started = Date()
    private let lock = NSLock()
    private var exit: Exit?
    private var waiters: [CheckedContinuation<Exit, Never>] = []

    var pid: Int32 { process.processIdentifier }

    init(_ arguments: [String], environment: [String: String], directory: String, label: String = UUID().uuidString) throws {
        stdoutPath = (directory as NSString).appendingPathComponent("\(label).stdout")
        stderrPath = (directory as NSString).appendingPathComponent("\(label).stderr")
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binary)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [weak self] p in
            let result = Exit(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal)
            self?.finish(result)
        }
        try process.run()
    }

    private func finish(_ result: Exit) {
        let resume = lock.withLock { () -> [CheckedContinuation<Exit, Never>] in
            exit = result
            defer { waiters.removeAll() }
            return waiters
        }
        resume.forEach { $0.resume(returning: result) }
    }

    /// The exit, if the process has ended.
    var exited: Exit? { lock.withLock { exit } }

    /// Waits for the process to end.
    func waitForExit() async -> Exit {
        await withCheckedContinuation { continuation in
            let done = lock.withLock { () -> Exit? in
                if let exit { return exit }
                waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Waits for the process to end, at most `seconds`; nil when it is still running then.
    func waitForExit(seconds: Double) async -> Exit? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let exit = exited { return exit }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return exited
    }

    func send(_ signal: Int32) {
        if exited == nil { _ = kill(pid, signal) }
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self) }
}

/// Polls `condition` until it holds or `seconds` pass; returns whether it held. For observable state only
/// (sandbox counts, files, process exit) — never as a way to "wait long enough".
func eventually(within seconds: Double, every milliseconds: UInt64 = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if condition() { return true }
        if Date() >= deadline { return false }
        try? await Task.sleep(nanoseconds: milliseconds * 1_000_000)
    }
}

/// A small deterministic generator (SplitMix64), so a failing run can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Shared scaffolding of the fault tests: environments, result files, the ledger.
enum E2E {
    static let providers = ["dynadot", "gname", "yay", "oneapi", "dnspod"]
    static let finalStates: Set<String> = ["accepted", "already", "rejected", "skipped"]

    /// Every provider pointed at `server`, paced for tests.
    static func environment(_ server: SandboxServer, state: String, timeout: Double? = nil) -> [String: String] {
        var env = BinaryRunner.baseEnvironment(state: state)
        env.merge(SandboxCredentials.environment(for: server)) { _, new in new }
        for p in providers { env["\(p.uppercased())_RATE"] = "100000" }
        env["DNSPOD_EMAIL"] = "owner@example.com"
        if let timeout { env["BO_BATCH_TIMEOUT"] = String(timeout) }
        return env
    }

    static func outcomes(_ dir: String, _ domain: String) throws -> [String: [String: Any]] {
        let file = try Scratch.json("\(dir)/\(domain).json")
        return (file["outcomes"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String: Any] }
    }

    static func state(_ dir: String, _ domain: String, _ provider: String) -> String? {
        (try? outcomes(dir, domain))?[provider]?["state"] as? String
    }

    /// Names in `dir` that are temporary files of the atomic writer.
    static func temporaryFiles(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".tmp") || $0.contains(".tmp.") }
    }

    /// Ledger pair counts per provider and state (opened after the binary has exited).
    static func ledgerCounts(state: String, run: String) throws -> [String: [String: Int]] {
        let ledger = try Ledger(directory: state)
        var out: [String: [String: Int]] = [:]
        for (provider, counts) in try ledger.stateCounts(run: run) {
            for (s, n) in counts { out[provider.rawValue, default: [:]][s.rawValue] = n }
        }
        return out
    }

    /// What `refresh` must report for an order the sandbox says is at `stage`, at `provider`: each API's own
    /// vocabulary decides (README, "Follow-up calls per provider"). Yay lists only active orders, so after the
    /// drop every one is `gone`; 1API has no word for a renewal and says FAILED, i.e. `lost`.
    static func expectedFate(_ stage: BackorderDestiny.Phase.Stage, at provider: String) -> String {
        switch (provider, stage) {
        case ("yay", .waiting): "waiting"
        case ("yay", _): "gone"
        case ("oneapi", .redeemed): "lost"
        default: stage.rawValue
        }
    }

    static func totalCreates(_ stats: SandboxStats) -> Int {
        stats.creates.values.reduce(0) { $0 + $1.values.reduce(0, +) }
    }

    static func totalRequests(_ stats: SandboxStats) -> Int {
        stats.requests.values.reduce(0) { $0 + $1.values.reduce(0, +) }
    }

    /// Domains with more effective creates than `limit` at `provider`.
    static func duplicates(_ stats: SandboxStats, _ provider: String, limit: Int = 1) -> [String: Int] {
        (stats.creates[provider] ?? [:]).filter { $0.value > limit }
    }
}
