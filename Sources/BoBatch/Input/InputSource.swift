#if canImport(Glibc)
import Glibc
#endif

/// Where an input's bytes come from: a file or pipe, or a decompressor reading from one.
///
/// Pull-style on purpose: ``RecordScanner`` asks for bytes into its own buffer, so a decompressor inflates straight
/// into that buffer (no copy per line, no queue of chunks), and reading goes exactly as far as the consumer pulls,
/// which is what lets a zip archive on a pipe be read member after member. One consumer per source.
///
/// A source that fails after producing bytes in the same call returns those bytes first and throws on the next
/// call, so every line before the damage reaches the ledger. Errors name the input and say what was wrong.
protocol ByteSource: AnyObject {
    /// Fills the start of `buffer` (never empty) with the next bytes and returns their count; 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputFileError) -> Int
}

/// A file, or standard input, read with read(2).
final class FileSource: ByteSource {
    private let fd: Int32
    private let ownsDescriptor: Bool
    let path: String
    let displayName: String

    /// Opens `path`, or standard input for "-" (shown as "stdin").
    init(path: String) throws(InputFileError) {
        self.path = path
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
            displayName = "stdin"
        } else {
            fd = try Self.open(path)
            ownsDescriptor = true
            displayName = path
        }
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputFileError) -> Int {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress!, buffer.count)
            if count >= 0 { return count }
            let error = errno
            if error == EINTR { continue }
            let reason = String(cString: strerror(error))
            throw InputFileError(path: path, message: "error reading \(displayName): \(reason); check the file and run again")
        }
    }

    /// Why `path` cannot be read as an input (missing, unreadable, a directory), or nil when it can be opened
    /// (standard input always can). Opens and closes it: nothing is read.
    static func problem(opening path: String) -> InputFileError? {
        guard path != "-" else { return nil }
        do {
            Glibc.close(try open(path))
            return nil
        } catch {
            return error
        }
    }

    private static func open(_ path: String) throws(InputFileError) -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR:
                throw InputFileError(path: path, message: "\(path): no such file; check the path")
            case EACCES, EPERM:
                throw InputFileError(path: path, message: "\(path): permission denied; make the file readable (chmod +r) or run as a user who can read it")
            default:
                throw InputFileError(path: path, message: "cannot open \(path): \(String(cString: strerror(code)))")
            }
        }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            close(fd)
            throw InputFileError(path: path, message: "\(path) is a directory; pass the files in it instead (for example \(path)/*.txt)")
        }
        return fd
    }
}

/// Lets the first bytes of a source be looked at (magic numbers, a binary member) and then read again.
/// Once they are read back, every read goes straight to the source underneath, into the caller's buffer.
final class PeekableSource: ByteSource {
    private let upstream: any ByteSource
    private var head: [UInt8] = []
    private var headPosition = 0
    private var upstreamEnded = false
    /// A failure met while peeking, after some bytes: those are handed out first.
    private var failure: InputFileError?

    init(_ upstream: any ByteSource) {
        self.upstream = upstream
    }

    /// Up to `count` first bytes (fewer only when the input is shorter), without consuming them.
    /// Throws only when nothing at all could be read.
    func peek(_ count: Int) throws(InputFileError) -> ArraySlice<UInt8> {
        if head.count < count, !upstreamEnded, failure == nil {
            var chunk = [UInt8](repeating: 0, count: count - head.count)
            while head.count < count {
                let wanted = count - head.count
                let result = chunk.withUnsafeMutableBytes { raw in
                    Result { () throws(InputFileError) -> Int in
                        try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<wanted]))
                    }
                }
                switch result {
                case .success(0):
                    upstreamEnded = true
                case .success(let n):
                    head.append(contentsOf: chunk[..<n])
                    continue
                case .failure(let error):
                    if head.isEmpty { throw error }
                    failure = error
                }
                break
            }
        }
        return head[headPosition...].prefix(count)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputFileError) -> Int {
        if headPosition < head.count {
            let n = min(buffer.count, head.count - headPosition)
            head.withUnsafeBytes { bytes in
                buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + headPosition, byteCount: n)
            }
            headPosition += n
            if headPosition == head.count {
                head = []
                headPosition = 0
            }
            return n
        }
        if let failure { throw failure }
        if upstreamEnded { return 0 }
        return try upstream.read(into: buffer)
    }
}
