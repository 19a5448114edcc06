import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Another process holds the sandbox world this one was asked to start from.
public struct SandboxWorldBusy: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var description: String {
        "another bo-batch --sandbox run is using the sandbox world \(path); wait for it to finish, or use another --state"
    }
}

/// The sandbox world file cannot be read or written.
public struct SandboxWorldError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The in-process sandbox's memory between invocations (``SandboxOptions/stateFile``): the clock's offset and
/// every fake's ``FakeProvider/snapshot()``, in one JSON file
/// `{"format": "bo-batch-sandbox-world", "version": 1, "clock_offset_seconds": N, "fakes": {"yay": {...}, ...}}`.
///
/// - Loaded once at start, before the first request.
/// - Written after every move of the clock and at ``SandboxServer/saveState()`` / ``SandboxServer/shutdown()``,
///   through a temporary file that is synced and then renamed over the old one: a crash leaves the previous
///   world or the new one, never half of one.
/// - Held by one process at a time: an exclusive `flock` on `FILE.lock` from start to shutdown, so a second
///   `--sandbox` run of the same state cannot load a world that the first is still changing and later write its
///   stale copy over it (``SandboxWorldBusy``). The lock goes with the process, so a `kill -9` leaves none.
///
/// What happened since the last write is lost with the process on a `kill -9`: README says so.
final class SandboxWorld: Sendable {
    let path: String
    private let lockDescriptor: Locked<Int32>
    private let fakes: [any FakeProvider]
    private let clock: SandboxClock
    /// Serialises writes (a clock move and an explicit save may meet), and holds the bytes last written or read:
    /// a save that would write them again is skipped, so the shutdown after an explicit save writes nothing (a
    /// command's process may end during that shutdown).
    private let writing = Locked<[UInt8]?>(nil)

    static let format = "bo-batch-sandbox-world"
    static let version = 1

    /// Takes the lock and restores the saved world into `fakes` and `clock`; a missing file is an empty world.
    init(path: String, fakes: [any FakeProvider], clock: SandboxClock) throws {
        self.path = path
        self.fakes = fakes
        self.clock = clock
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw SandboxWorldError(message: "cannot make the directory of the sandbox world \(path): \(error.localizedDescription)")
            }
        }
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SandboxWorldError(message: "cannot open the sandbox world's lock \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw SandboxWorldBusy(path: path)
        }
        lockDescriptor = Locked(fd)
        // A temporary file left by a process that ended while saving (the world itself is whole): ours now.
        let base = (path as NSString).lastPathComponent + ".tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? [] where name.hasPrefix(base) {
            try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
        }
        do {
            try load()
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    /// Gives the lock back (at shutdown; the process's end does it too).
    func release() {
        lockDescriptor.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    private func load() throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw SandboxWorldError(message: "cannot read the sandbox world \(path)")
            }
            return
        }
        func broken(_ why: String) -> SandboxWorldError {
            SandboxWorldError(message: "the sandbox world \(path) is unusable (\(why)); delete it to start the sandbox afresh")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw broken("not a JSON object") }
        guard root["format"] as? String == Self.format else { throw broken("not a bo-batch sandbox world") }
        guard let version = root["version"] as? Int, version == Self.version else {
            throw broken("version \(String(describing: root["version"] ?? "none")), this bo-batch reads \(Self.version)")
        }
        let saved = root["fakes"] as? [String: Any] ?? [:]
        for fake in fakes {
            guard let memory = saved[fake.name] else { continue }
            do {
                let bytes = try JSONSerialization.data(withJSONObject: memory, options: [.fragmentsAllowed])
                try fake.restore(bytes)
            } catch {
                throw broken("\(fake.name): \(error)")
            }
        }
        if let offset = (root["clock_offset_seconds"] as? NSNumber)?.doubleValue, offset.isFinite, offset > 0 {
            clock.advance(to: offset)
        }
        writing.withLock { $0 = Array(data) }
    }

    /// Set by a closing save: the world is written for the last time by this process.
    private let closed = Locked(false)

    /// Writes the world as it is now (see the type's notes on atomicity). `closing`: this is the command's last
    /// save, and no later one (the shutdown's, the clock's) writes again: a process that ends during a later
    /// save would leave its temporary file behind.
    func save(closing: Bool = false) throws {
        if closed.withLock({ $0 }) { return }
        defer { if closing { closed.withLock { $0 = true } } }
        try writing.withLock { lastWritten in
            var text = "{\"format\":\"\(Self.format)\",\"version\":\(Self.version),"
            text += "\"clock_offset_seconds\":\(Self.number(clock.offset)),\"fakes\":{"
            var body = Array(text.utf8)
            var first = true
            for fake in fakes {
                guard let memory = fake.snapshot(), !memory.isEmpty else { continue }
                if !first { body.append(UInt8(ascii: ",")) }
                first = false
                body += Array("\"\(fake.name)\":".utf8)
                body += memory
            }
            body += Array("}}\n".utf8)
            if body == lastWritten { return }
            try Self.writeAtomically(body, to: path)
            lastWritten = body
        }
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// Writes `bytes` to a temporary file beside `path`, syncs it, renames it over `path`, syncs the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        func fail(_ step: String) -> SandboxWorldError {
            SandboxWorldError(message: "cannot save the sandbox world \(path) (\(step): \(String(cString: strerror(errno))))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("open") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = fail("write")
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let error = fail("fsync")
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let error = fail("rename")
            unlink(temporary)
            throw error
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }
}

/// The one way every `--sandbox` command starts the in-process sandbox, so `submit --sandbox`, `refresh --sandbox`,
/// `cancel --sandbox` and `reclaim --sandbox` of one state directory all see the same world: the orders placed
/// by the earlier ones, and the clock where the earlier ones left it.
public enum SandboxSession {
    /// The world's file name, beside the sandbox ledger.
    public static let worldFileName = "sandbox-world.json"

    /// `<stateDirectory>/sandbox-world.json`: pass the directory the command keeps its sandbox ledger in
    /// (`<state>/sandbox` unless `--state` was given).
    public static func worldFile(stateDirectory: String) -> String {
        (stateDirectory as NSString).appendingPathComponent(worldFileName)
    }

    /// Starts the sandbox with `options` and the world saved in `stateDirectory`.
    ///
    /// Take the command's run lock first (the world lives in the same state directory). Throws
    /// ``SandboxWorldBusy`` when another process holds that world (exit as for a held run lock), or
    /// ``SandboxWorldError`` when it cannot be read. Call ``SandboxServer/saveState(closing:)`` with `closing: true`
    /// before the process ends: ``SandboxServer/shutdown()`` saves too, but a command that exits without awaiting
    /// it would not.
    public static func start(stateDirectory: String, options: SandboxOptions = SandboxOptions()) async throws -> SandboxServer {
        var options = options
        options.stateFile = worldFile(stateDirectory: stateDirectory)
        return try await SandboxServer.start(options)
    }
}
