import Foundation

/// One run at a time per state directory: an exclusive `flock` on `lock` beside the ledger, holding the
/// owner's pid so the second cron invocation can say who is running. The kernel drops the lock when the
/// process dies, however it dies.
public final class RunLock: Sendable {
    public let path: String
    private let fd: Int32

    public struct Held: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var holderPID: Int32?
        public var description: String {
            let who = holderPID.map { "process \($0)" } ?? "another process"
            return "another bo-batch run (\(who)) is using this state directory (lock \(path)); wait for it to finish, or use another --state"
        }
    }

    /// The lock file cannot be opened (permissions, a read-only or missing state directory).
    public struct Unusable: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot open the run lock \(path): \(reason); check that the state directory is writable, or use another --state" }
    }

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = (directory as NSString).appendingPathComponent("lock")
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Unusable(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let pid = n > 0 ? Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            throw Held(path: path, holderPID: pid)
        }
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
