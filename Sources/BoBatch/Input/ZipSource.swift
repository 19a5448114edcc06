import CZlib

/// One member of a zip archive, as its local header describes it.
struct ZipMember {
    /// The member's path inside the archive, e.g. `lists/pending.csv`.
    var name: String
    var method: UInt16
    var flags: UInt16
    var crc: UInt32
    var compressedSize: UInt64
    var size: UInt64
    /// Sizes in a zip64 extra field: the data descriptor then holds 8-byte sizes.
    var zip64: Bool

    var isDirectory: Bool { name.hasSuffix("/") }
    /// Bit 3: CRC and sizes follow the data instead of being in the header (archives written to a pipe).
    var hasDataDescriptor: Bool { flags & 0x8 != 0 }

    /// Why this member cannot be read front to back, or `nil` when it can.
    var unreadable: String? {
        if flags & 0x1 != 0 { return "is encrypted; unzip it with its password first" }
        switch method {
        case 8:
            return nil
        case 0:
            return nil
        default:
            let known: [UInt16: String] = [9: "deflate64", 12: "bzip2", 14: "LZMA", 93: "zstd", 95: "xz", 99: "AES encryption"]
            let what = known[method].map { "method \(method), \($0)" } ?? "method \(method)"
            return "is compressed with \(what); only deflate and stored members can be read: unzip it first, or zip it again with deflate"
        }
    }
}

/// A zip archive read front to back from a stream, member by member, through each member's local header.
///
/// Why our own reader rather than ZIPFoundation (0.9.20): ZIPFoundation needs a seekable file (it starts from the
/// central directory at the end) and hands out a member's data by pushing chunks into a closure. bo-batch's
/// scanner pulls bytes into its own buffer, and lists often arrive on a pipe (`curl … | bo-batch submit -`).
/// Local headers are enough for what lists are zipped with: stored and deflate members (inflated by zlib, raw,
/// straight into the scanner's buffer), the data-descriptor flag (bit 3) for deflate members (the deflate data
/// ends itself; CRC and sizes follow it), stored members with bit 3 (as Go's and Python's zip writers make them
/// on a pipe: their end is the data descriptor whose CRC-32 and sizes match the bytes before it), and zip64 sizes
/// in the local extra field. Encryption and other methods are refused with a clear message. Every member's
/// CRC-32 and size are checked.
///
/// Not thread-safe: one ``ListInputs`` drives it, and one ``ZipMemberSource`` at a time reads from it.
final class ZipArchive {
    private static let bufferSize = 64 * 1024
    private static let localHeader: UInt32 = 0x0403_4B50
    private static let dataDescriptor: UInt32 = 0x0807_4B50
    /// Central directory, end of central directory (and its zip64 form), digital signature: the members are over.
    private static let endMarkers: Set<UInt32> = [0x0201_4B50, 0x0605_4B50, 0x0606_4B50, 0x0505_4B50]

    let path: String
    let displayName: String
    private let upstream: any ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    private var position = 0
    private var end = 0
    private var upstreamEnded = false
    private let inflater = Inflater(.raw)
    private var scratch: UnsafeMutableRawBufferPointer?

    private enum State { case header, data, ended, failed }
    private var state = State.header
    private var failure: InputFileError?
    /// The failure reached someone (a member's reader, or ``nextMember()``): it is not reported twice.
    private var failureReported = false

    private(set) var current: ZipMember?
    /// Counts members, so a ``ZipMemberSource`` left over from an earlier member reads nothing from this one.
    private(set) var memberIndex = 0
    private var remaining: UInt64 = 0
    private var crc: UInt = 0
    private var produced: UInt64 = 0

    /// Names of members skipped or not chosen, for messages (the first few).
    var passedOver: [String] = []
    /// Members opened as lists so far.
    var listsOpened = 0

    init(_ upstream: any ByteSource, path: String, displayName: String) {
        self.upstream = upstream
        self.path = path
        self.displayName = displayName
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        scratch?.deallocate()
    }

    func name(of member: ZipMember) -> String { "\(displayName):\(member.name)" }

    // MARK: - Members

    /// The next member, after reading past what is left of the current one; `nil` after the last.
    /// Throws once for damage found between members (or while skipping one); after that, `nil`.
    func nextMember() throws(InputFileError) -> ZipMember? {
        if state == .data { skipRestOfMember() }
        if state == .failed {
            if failureReported { return nil }
            failureReported = true
            throw failure!
        }
        if state == .ended { return nil }
        do throws(InputFileError) {
            guard try available(4) else {
                let after = memberIndex == 0 ? "before its first member" : "after \(memberIndex) member\(memberIndex == 1 ? "" : "s")"
                throw archiveError("the zip archive is cut short: it ends \(after), without its table of contents", advice: "download it again (unzip -t FILE tests a copy)")
            }
            let signature = le32(at: 0)
            if Self.endMarkers.contains(signature) {
                state = .ended
                return nil
            }
            guard signature == Self.localHeader else {
                throw archiveError("unexpected bytes where member \(memberIndex + 1) should start: the archive is damaged", advice: "download it again (unzip -t FILE tests a copy)")
            }
            let member = try readLocalHeader()
            memberIndex += 1
            current = member
            state = .data
            remaining = member.compressedSize
            crc = 0
            produced = 0
            inflater.reset()
            return member
        } catch {
            state = .failed
            failure = error
            failureReported = true
            throw error
        }
    }

    private func readLocalHeader() throws(InputFileError) -> ZipMember {
        guard try available(30) else { throw archiveError("the zip archive is cut short inside a member's header", advice: "download it again") }
        let flags = le16(at: 6), method = le16(at: 8), crc = le32(at: 14)
        var compressedSize = UInt64(le32(at: 18)), size = UInt64(le32(at: 22))
        let nameLength = Int(le16(at: 26)), extraLength = Int(le16(at: 28))
        position += 30
        let nameBytes = try take(nameLength)
        let extra = try take(extraLength)
        var zip64 = false
        var index = 0
        while index + 4 <= extra.count {
            let id = UInt16(extra[index]) | UInt16(extra[index + 1]) << 8
            let length = Int(UInt16(extra[index + 2]) | UInt16(extra[index + 3]) << 8)
            let body = extra[(index + 4)..<min(extra.count, index + 4 + length)]
            if id == 0x0001 {
                zip64 = true
                var at = body.startIndex
                func next64() -> UInt64? {
                    guard at + 8 <= body.endIndex else { return nil }
                    defer { at += 8 }
                    return (0..<8).reduce(UInt64(0)) { $0 | UInt64(body[at + $1]) << (8 * UInt64($1)) }
                }
                if size == 0xFFFF_FFFF, let value = next64() { size = value }
                if compressedSize == 0xFFFF_FFFF, let value = next64() { compressedSize = value }
            }
            index += 4 + length
        }
        // Bit 11: the name is UTF-8; otherwise it is CP437, where ASCII (nearly every list's name) is the same.
        let name = String(validating: nameBytes, as: UTF8.self) ?? String(String.UnicodeScalarView(nameBytes.map { Unicode.Scalar($0) }))
        return ZipMember(name: name, method: method, flags: flags, crc: crc, compressedSize: compressedSize, size: size, zip64: zip64)
    }

    /// Reads (and checks) or skips whatever the current member has left, so the next header can be found.
    private func skipRestOfMember() {
        guard state == .data, let member = current else { return }
        if member.unreadable != nil {
            if member.hasDataDescriptor {
                fail(archiveError("\(name(of: member)) cannot be skipped (its size is written after its data), so the members after it cannot be found", advice: "unzip the archive first"))
                return
            }
            do {
                try skip(member.compressedSize)
                state = .header
            } catch {
                fail(error)
            }
            return
        }
        if scratch == nil { scratch = .allocate(byteCount: Self.bufferSize, alignment: 16) }
        while state == .data, pull(into: scratch!) > 0 {}
    }

    // MARK: - Member data

    /// The current member's text into `buffer`; 0 at its end. `index` is the member the caller was opened on.
    func read(member index: Int, into buffer: UnsafeMutableRawBufferPointer) throws(InputFileError) -> Int {
        guard index == memberIndex else { return 0 }
        if state == .failed {
            failureReported = true
            throw failure!
        }
        let count = pull(into: buffer)
        if count == 0, state == .failed {
            failureReported = true
            throw failure!
        }
        return count
    }

    /// Produces member text; on damage, records the failure (state `.failed`) and returns what came before it.
    private func pull(into out: UnsafeMutableRawBufferPointer) -> Int {
        guard state == .data, let member = current, member.unreadable == nil else { return 0 }
        var count = 0
        var ended = false
        var checksummed = false
        do throws(InputFileError) {
            if member.method == 0, member.hasDataDescriptor {
                checksummed = true
                ended = try pullStoredUntilDescriptor(member, into: out, count: &count)
            } else if member.method == 0 {
                if remaining == 0 {
                    ended = true
                } else {
                    guard try available(1) else { throw memberError(member, "the zip archive is cut short inside this member") }
                    count = Int(min(UInt64(out.count), remaining, UInt64(end - position)))
                    out.baseAddress!.copyMemory(from: buffer.baseAddress! + position, byteCount: count)
                    position += count
                    remaining -= UInt64(count)
                    ended = remaining == 0
                }
            } else {
                let z = inflater.stream
                z.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                z.pointee.avail_out = uInt(clamping: out.count)
                let offered = z.pointee.avail_out
                defer { count = Int(offered - z.pointee.avail_out) }
                while z.pointee.avail_out > 0 {
                    if !member.hasDataDescriptor, remaining == 0 {
                        throw memberError(member, "the compressed data runs past the size its header gives: the archive is damaged")
                    }
                    guard try available(1) else { throw memberError(member, "the zip archive is cut short inside this member") }
                    let fed = member.hasDataDescriptor ? end - position : Int(min(UInt64(end - position), remaining))
                    z.pointee.next_in = (buffer.baseAddress! + position).assumingMemoryBound(to: Bytef.self)
                    z.pointee.avail_in = uInt(fed)
                    let code = inflate(z, Z_NO_FLUSH)
                    let consumed = fed - Int(z.pointee.avail_in)
                    position += consumed
                    if !member.hasDataDescriptor { remaining -= UInt64(consumed) }
                    z.pointee.avail_in = 0
                    if code == Z_STREAM_END {
                        ended = true
                        break
                    }
                    if code != Z_OK, code != Z_BUF_ERROR {
                        throw memberError(member, "the deflate data is damaged (\(inflater.message(code)))")
                    }
                }
            }
        } catch {
            fail(error)
        }
        if count > 0, !checksummed {
            crc = out.baseAddress!.withMemoryRebound(to: Bytef.self, capacity: count) { crc32(crc, $0, uInt(count)) }
            produced += UInt64(count)
        }
        if ended, state == .data {
            do {
                try finishMember(member)
            } catch {
                fail(error)
            }
        }
        return count
    }

    /// A stored member whose size follows it: its data ends where a data descriptor (with its signature) holds
    /// the CRC-32 and size of exactly the bytes before it. Returns `true` at that descriptor, left unread for
    /// ``finishMember(_:)``; keeps `crc` and `produced` up to date as it goes, since each candidate needs them.
    private func pullStoredUntilDescriptor(_ member: ZipMember, into out: UnsafeMutableRawBufferPointer, count: inout Int) throws(InputFileError) -> Bool {
        let width = member.zip64 ? 8 : 4
        let descriptor = 4 + 4 + 2 * width
        while count < out.count {
            // A whole descriptor must still come, so fewer bytes than that means the archive is cut short.
            guard try available(descriptor) else { throw memberError(member, "the zip archive is cut short inside this member") }
            let stop = min(end - descriptor + 1, position + (out.count - count))
            var p = position
            while p < stop, !(buffer[p] == 0x50 && buffer[p + 1] == 0x4B && buffer[p + 2] == 0x07 && buffer[p + 3] == 0x08) { p += 1 }
            if p > position { emit(p - position, into: out, count: &count) }
            // No signature within reach: go on with more room, or more bytes.
            if p == stop { continue }
            // A signature at `position`: the end, if the CRC-32 and both sizes are those of what came before.
            let sizes = width == 8 ? (le64(at: 8), le64(at: 16)) : (UInt64(le32(at: 8)), UInt64(le32(at: 12)))
            let mask: UInt64 = width == 8 ? .max : 0xFFFF_FFFF
            if UInt(le32(at: 4)) == crc, sizes.0 == produced & mask, sizes.1 == produced & mask { return true }
            emit(1, into: out, count: &count)
        }
        return false
    }

    /// Copies `n` bytes at `position` to `out` at `count`, checksummed and counted.
    private func emit(_ n: Int, into out: UnsafeMutableRawBufferPointer, count: inout Int) {
        let from = buffer.baseAddress! + position
        (out.baseAddress! + count).copyMemory(from: from, byteCount: n)
        crc = crc32(crc, from.assumingMemoryBound(to: Bytef.self), uInt(n))
        produced += UInt64(n)
        position += n
        count += n
    }

    /// After the member's data: its data descriptor, if any, then the CRC-32 and size checks.
    private func finishMember(_ member: ZipMember) throws(InputFileError) {
        if member.method == 8, !member.hasDataDescriptor, remaining != 0 {
            throw memberError(member, "the deflate data ends \(remaining) bytes before the size its header gives: the archive is damaged")
        }
        var expectedCRC = member.crc, expectedSize = member.size, sizeMask = UInt64.max
        if member.hasDataDescriptor {
            let width = member.zip64 ? 8 : 4
            guard try available(4) else { throw memberError(member, "the zip archive is cut short after this member's data") }
            // The descriptor's signature is optional; a CRC equal to it is told apart by the CRC we computed.
            if le32(at: 0) == Self.dataDescriptor, UInt(Self.dataDescriptor) != crc { position += 4 }
            guard try available(4 + 2 * width) else { throw memberError(member, "the zip archive is cut short after this member's data") }
            expectedCRC = le32(at: 0)
            expectedSize = width == 8 ? le64(at: 12) : UInt64(le32(at: 8))
            if width == 4 { sizeMask = 0xFFFF_FFFF }
            position += 4 + 2 * width
        }
        if UInt(expectedCRC) != crc {
            throw memberError(member, "the member fails its CRC-32 check: it is damaged")
        }
        if expectedSize & sizeMask != produced & sizeMask {
            throw memberError(member, "the member inflates to \(produced) bytes, not the \(expectedSize) its header gives: it is damaged")
        }
        state = .header
    }

    private func fail(_ error: InputFileError) {
        if state == .failed { return }
        state = .failed
        failure = error
        failureReported = false
    }

    // MARK: - Errors

    private func archiveError(_ what: String, advice: String) -> InputFileError {
        InputFileError(path: path, message: "\(displayName): \(what); \(advice)")
    }

    private func memberError(_ member: ZipMember, _ what: String) -> InputFileError {
        InputFileError(
            path: path,
            message: "\(name(of: member)): \(what), after \(produced) bytes of text; the lines before that were read, the members after it are not; download the archive again (unzip -t FILE tests a copy)")
    }

    // MARK: - Bytes

    /// Makes `count` bytes (at most the buffer's size) available at `position`; `false` if the input ends first.
    private func available(_ count: Int) throws(InputFileError) -> Bool {
        if end - position >= count { return true }
        if position > 0 {
            let left = end - position
            if left > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + position, byteCount: left) }
            position = 0
            end = left
        }
        while end < count, !upstreamEnded {
            let n = try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if n == 0 { upstreamEnded = true } else { end += n }
        }
        return end - position >= count
    }

    private func take(_ count: Int) throws(InputFileError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            guard try available(1) else { throw archiveError("the zip archive is cut short inside a member's header", advice: "download it again") }
            let n = min(count - out.count, end - position)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[position..<(position + n)]))
            position += n
        }
        return out
    }

    private func skip(_ count: UInt64) throws(InputFileError) {
        var left = count
        while left > 0 {
            guard try available(1) else { throw archiveError("the zip archive is cut short inside a member it skipped", advice: "download it again") }
            let n = Int(min(left, UInt64(end - position)))
            position += n
            left -= UInt64(n)
        }
    }

    private func le16(at offset: Int) -> UInt16 {
        UInt16(buffer[position + offset]) | UInt16(buffer[position + offset + 1]) << 8
    }

    private func le32(at offset: Int) -> UInt32 {
        UInt32(le16(at: offset)) | UInt32(le16(at: offset + 2)) << 16
    }

    private func le64(at offset: Int) -> UInt64 {
        UInt64(le32(at: offset)) | UInt64(le32(at: offset + 4)) << 32
    }
}

/// One member's text, for a ``DomainListReader``.
final class ZipMemberSource: ByteSource {
    private let archive: ZipArchive
    private let index: Int

    init(_ archive: ZipArchive) {
        self.archive = archive
        index = archive.memberIndex
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputFileError) -> Int {
        try archive.read(member: index, into: buffer)
    }
}
