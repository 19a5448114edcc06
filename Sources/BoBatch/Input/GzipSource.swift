import CZlib

/// A zlib inflate stream on the heap: zlib keeps a pointer back to its `z_stream`, which therefore must never
/// move (a Swift struct property could). Shared by the gzip and zip readers.
final class Inflater {
    let stream: UnsafeMutablePointer<z_stream>

    enum Kind { case gzip, raw }

    init(_ kind: Kind) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let code = switch kind {
        case .gzip: bb_inflate_init_gzip(stream)
        case .raw: bb_inflate_init_raw(stream)
        }
        // Only Z_MEM_ERROR (or a zlib whose version does not match its header) can fail here.
        precondition(code == Z_OK, "zlib inflateInit2 failed (\(code)): out of memory or a mismatched zlib")
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func reset() { inflateReset(stream) }

    /// zlib's own words for the last error, e.g. "invalid distance too far back".
    func message(_ code: Int32) -> String {
        if let msg = stream.pointee.msg { return String(cString: msg) }
        return String(cString: zError(code))
    }
}

/// The text of a gzip file (`.gz`, or anything starting with 1f 8b), inflated into the caller's buffer.
///
/// Several gzip members one after another (`cat a.gz b.gz`, or pigz/bgzip output) read as one text, as gunzip
/// does; zero bytes after the last member (tape padding) are ignored. zlib checks each member's CRC-32 and
/// length. A file that ends inside compressed data, damaged data, or a failed check is an ``InputFileError``
/// naming the file, thrown after every byte inflated before it has been handed out.
final class GzipSource: ByteSource {
    private static let inputSize = 64 * 1024

    private let upstream: any ByteSource
    private let path: String
    private let displayName: String
    private let inflater = Inflater(.gzip)
    private let input: UnsafeMutableRawBufferPointer
    private var upstreamEnded = false
    /// The last member ended and nothing of the next one has been inflated yet.
    private var betweenMembers = false
    private var finished = false
    private var failure: InputFileError?
    /// Text handed out so far, for saying where the damage is.
    private var produced: UInt64 = 0
    /// `avail_out` when the current read began, so an error can count this call's text too.
    private var callStart: uInt = 0

    init(_ upstream: any ByteSource, path: String, displayName: String) {
        self.upstream = upstream
        self.path = path
        self.displayName = displayName
        input = .allocate(byteCount: Self.inputSize, alignment: 16)
    }

    deinit { input.deallocate() }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputFileError) -> Int {
        if let failure { throw failure }
        if finished { return 0 }
        let z = inflater.stream
        z.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        z.pointee.avail_out = uInt(clamping: buffer.count)
        let offered = z.pointee.avail_out
        callStart = offered

        while z.pointee.avail_out > 0 {
            if z.pointee.avail_in == 0, !upstreamEnded {
                do {
                    let count = try upstream.read(into: input)
                    if count == 0 {
                        upstreamEnded = true
                    } else {
                        z.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                        z.pointee.avail_in = uInt(count)
                    }
                } catch {
                    failure = error
                    break
                }
            }
            if betweenMembers {
                // gunzip's rule: zero bytes after a member are padding; anything else must be the next member.
                while z.pointee.avail_in > 0, z.pointee.next_in.pointee == 0 {
                    z.pointee.next_in = z.pointee.next_in + 1
                    z.pointee.avail_in -= 1
                }
                if z.pointee.avail_in == 0 {
                    if upstreamEnded {
                        finished = true
                        break
                    }
                    continue
                }
                if z.pointee.next_in.pointee != 0x1F {
                    failure = error("unexpected bytes after the end of the gzip data (not another gzip member)", advice: "check where the file came from")
                    break
                }
                betweenMembers = false
            }
            if z.pointee.avail_in == 0, upstreamEnded {
                failure = error("the gzip data is cut short: the file ends inside compressed data")
                break
            }
            let code = inflate(z, Z_NO_FLUSH)
            switch code {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                betweenMembers = true
                inflater.reset()
            case Z_DATA_ERROR:
                let what = inflater.message(code)
                if what.hasSuffix("check") {  // "incorrect data check" (CRC-32), "incorrect length check"
                    failure = error("the gzip data fails its integrity check (\(what)): it is damaged")
                } else {
                    failure = error("the gzip data is damaged (\(what))")
                }
            default:
                failure = error("zlib could not inflate it (\(inflater.message(code)))")
            }
            if failure != nil { break }
        }

        let count = Int(offered - z.pointee.avail_out)
        produced += UInt64(count)
        if count == 0, let failure { throw failure }
        return count
    }

    private func error(_ what: String, advice: String = "download it again (gzip -t FILE tests a copy)") -> InputFileError {
        let text = produced + UInt64(callStart - inflater.stream.pointee.avail_out)
        return InputFileError(path: path, message: "\(displayName): \(what), after \(text) bytes of text; the lines before that were read; \(advice)")
    }
}
