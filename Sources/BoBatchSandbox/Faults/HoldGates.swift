import Foundation

/// Gates that hold create requests inside the server until a test releases them, so a test can make a request
/// "slow" exactly as long as it needs, without sleeping: close the gate, send, wait until the server reports the
/// request held, do the concurrent thing, open the gate.
final class HoldGates: Sendable {
    private struct Watcher {
        var provider: String
        var count: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var closed: Set<String> = []
        var waiting: [String: [UUID: CheckedContinuation<Void, Never>]] = [:]
        var cancelled: Set<UUID> = []
        var watchers: [UUID: Watcher] = [:]
    }

    private let state = Locked(State())

    func hold(_ provider: String) {
        state.withLock { _ = $0.closed.insert(provider) }
    }

    func release(_ provider: String) {
        let resumed = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed.remove(provider)
            return Array((state.waiting.removeValue(forKey: provider) ?? [:]).values)
        }
        resumed.forEach { $0.resume() }
    }

    func releaseAll() {
        let resumed = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed.removeAll()
            let all = state.waiting.values.flatMap(\.values) + state.watchers.values.map(\.continuation)
            state.waiting.removeAll()
            state.watchers.removeAll()
            return all
        }
        resumed.forEach { $0.resume() }
    }

    func heldCounts() -> [String: Int] {
        state.withLock { $0.waiting.mapValues(\.count).filter { $0.value > 0 } }
    }

    /// Returns at once when the provider's gate is open; otherwise when it opens or the task is cancelled.
    func pass(_ provider: String) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> [CheckedContinuation<Void, Never>]? in
                    if !state.closed.contains(provider) || state.cancelled.remove(id) != nil { return nil }
                    state.waiting[provider, default: [:]][id] = continuation
                    let count = state.waiting[provider]!.count
                    let satisfied = state.watchers.filter { $0.value.provider == provider && $0.value.count <= count }
                    for key in satisfied.keys { state.watchers.removeValue(forKey: key) }
                    return satisfied.values.map(\.continuation)
                }
                guard let ready else {
                    continuation.resume()
                    return
                }
                ready.forEach { $0.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiting[provider]?.removeValue(forKey: id) { return waiter }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume()
        }
        state.withLock { _ = $0.cancelled.remove(id) }
    }

    /// Returns once at least `count` requests are held at the provider's gate.
    func waitUntilHeld(_ provider: String, count: Int) async {
        let id = UUID()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.waiting[provider, default: [:]].count >= count { return true }
                state.watchers[id] = Watcher(provider: provider, count: count, continuation: continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
