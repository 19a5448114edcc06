@testable import BoBatch
import Foundation

/// A provider whose account lives in memory, for lane tests: it holds what it accepted, can fail whole
/// batches that contain a "bad" domain (placing the good ones before it, as a server processing in order
/// would), and follows a script of canned answers first.
final class FakeProvider: Provider, @unchecked Sendable {
    let id: ProviderID
    let maxBatch: Int
    var maxLookupBatch = 100
    private(set) var lookupSizes: [Int] = []
    let endpointDescription = "memory"
    let secrets: [String] = []
    private let lock = NSLock()
    private var held: Set<DomainName> = []
    private var script: [SubmitResult] = []
    private var lookupScript: [LookupResult] = []
    private var busyScript: [BusyState] = []
    var bad: Set<String> = []
    var supportsLookup = true
    /// Called with each submit's index and domains before it is handled: a test looks at the ledger while the
    /// request is "on the wire".
    var beforeSubmit: (@Sendable (Int, [String]) async -> Void)?
    /// Submits this provider received, each as its list of domains.
    private(set) var submits: [[String]] = []
    private var hooked = 0
    private(set) var lookups = 0
    /// Effective creates per domain (a create that added it).
    private(set) var creates: [String: Int] = [:]

    init(id: ProviderID = .dynadot, maxBatch: Int = 100) {
        self.id = id
        self.maxBatch = maxBatch
    }

    func script(_ results: SubmitResult...) { lock.withLock { script.append(contentsOf: results) } }
    func scriptLookup(_ results: LookupResult...) { lock.withLock { lookupScript.append(contentsOf: results) } }
    func scriptBusy(_ results: BusyState...) { lock.withLock { busyScript.append(contentsOf: results) } }
    /// Places domains as if by an earlier request whose answer was lost.
    func place(_ names: [String]) { lock.withLock { for n in names { held.insert(DomainName(validatedASCII: n)); creates[n, default: 0] += 1 } } }

    func submit(_ items: [BackorderItem]) async -> SubmitResult {
        if let beforeSubmit {
            let index = lock.withLock { submits.count + hooked }
            lock.withLock { hooked += 1 }
            await beforeSubmit(index, items.map(\.domain.ascii))
            lock.withLock { hooked -= 1 }
        }
        return lock.withLock {
            submits.append(items.map(\.domain.ascii))
            if !script.isEmpty { return script.removeFirst() }
            for item in items {
                if bad.contains(item.domain.ascii) {
                    return .batchFailed(reason: "could not find backorder fot this domain", verdictIfAlone: .rejected(message: "not pending delete"))
                }
                if held.contains(item.domain) {
                    if items.count == 1 { return .settled([item.domain: .already(reference: nil, message: "already")]) }
                    return .batchFailed(reason: "\(item.domain) is already on your backorder request list", verdictIfAlone: .already(reference: nil, message: "already"))
                }
                held.insert(item.domain)
                creates[item.domain.ascii, default: 0] += 1
            }
            return .settled(Dictionary(uniqueKeysWithValues: items.map { ($0.domain, Verdict.accepted(reference: "ref-\($0.domain)", message: "added")) }))
        }
    }

    func lookup(_ items: [BackorderItem]) async -> LookupResult {
        lock.withLock {
            lookups += 1
            lookupSizes.append(items.count)
            if !lookupScript.isEmpty { return lookupScript.removeFirst() }
            guard supportsLookup else { return .unsupported(reason: "no lookup here") }
            var found: [DomainName: String] = [:]
            for item in items where held.contains(item.domain) { found[item.domain] = "ref-\(item.domain)" }
            return .found(found)
        }
    }

    var checksAccountBusy: Bool { true }
    var canLookUp: Bool { supportsLookup }

    func accountBusy() async -> BusyState {
        lock.withLock { busyScript.isEmpty ? .idle : busyScript.removeFirst() }
    }
}

/// A clock that never really sleeps: it advances its own time and records each wait.
final class TestClock: LaneClock, @unchecked Sendable {
    private let lock = NSLock()
    private var time: Double = 1000
    private(set) var sleeps: [Double] = []

    func now() -> Double { lock.withLock { time } }

    func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        lock.withLock {
            sleeps.append(seconds)
            time += seconds
        }
    }
}

enum TestPaths {
    /// A fresh directory under the system temporary directory.
    static func temporaryDirectory(_ label: String = "bo-batch") -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
