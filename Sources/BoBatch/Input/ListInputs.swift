/// The lists the command line's paths stand for: each file as it is, a gzip file's text, or each member of a zip
/// archive as its own list (named `list.zip:member.csv`).
///
/// What a file is comes from its first bytes, not its name: `1f 8b` is gzip, `PK\3\4` (or `PK\5\6`, an empty
/// archive) is zip, anything else is read as text. Nothing is unpacked to disk and nothing is held whole: a gzip
/// file is inflated into the scanner's buffer as it is read, and a zip archive is read front to back, so standard
/// input (`-`) may be either. Lazy: the next zip member is looked for only after the one before it was read.
///
/// Problems with a whole file or member come out as an ``Input`` whose ``Input/open(note:)`` throws, so the
/// caller records them as it records any unreadable file, and goes on with the next input.
public struct ListInputs: Sequence, IteratorProtocol {
    /// One list to read, not opened yet.
    public struct Input {
        /// How lines from it are named in `invalid.tsv` and result files: the path, `stdin`, or `list.zip:member`.
        public let name: String
        fileprivate let opening: Opening
        fileprivate let options: InputOptions

        /// A reader for this list, `nil` for a zip member passed over (a directory, or plainly not text; `note`
        /// says so). Throws when the list cannot be read at all.
        public func open(note: (String) -> Void) throws(InputFileError) -> DomainListReader? {
            switch opening {
            case .failure(let error):
                throw error
            case .stream(let source, let path):
                return try DomainListReader(source: source, path: path, displayName: name, options: options)
            case .member(let archive, let member):
                if member.isDirectory { return nil }
                if let reason = member.unreadable {
                    throw InputFileError(path: archive.path, message: "\(name) \(reason)")
                }
                let source = PeekableSource(ZipMemberSource(archive))
                // A chosen member is read whatever it looks like (the reader says what is wrong with it); among
                // all members, the ones that are plainly not text are passed over with a note.
                if options.member == nil, let kind = Self.binaryKind(try source.peek(Self.sniffBytes)) {
                    archive.passedOver.append(member.name)
                    note("\(name): skipped, \(kind) (pass --member NAME to read one member only)")
                    return nil
                }
                archive.listsOpened += 1
                return try DomainListReader(source: source, path: archive.path, displayName: name, options: options)
            }
        }

        private static let sniffBytes = 4096

        /// What a member is when it is plainly not a list, from its first bytes.
        static func binaryKind(_ sample: ArraySlice<UInt8>) -> String? {
            let magic: [([UInt8], String)] = [
                ([0x1F, 0x8B], "gzip data"), ([0x50, 0x4B, 0x03, 0x04], "a zip archive (or a spreadsheet)"), ([0x25, 0x50, 0x44, 0x46], "a PDF"),
                ([0x89, 0x50, 0x4E, 0x47], "a PNG image"), ([0xFF, 0xD8, 0xFF], "a JPEG image"), ([0x47, 0x49, 0x46, 0x38], "a GIF image"),
                ([0xD0, 0xCF, 0x11, 0xE0], "an Office document"), ([0x00, 0x05, 0x16, 0x07], "macOS metadata"),
            ]
            for (prefix, kind) in magic where sample.starts(with: prefix) { return "it is \(kind)" }
            // The reader's own test for binary files (see DomainListReader): text has almost no control bytes.
            let suspicious = sample.reduce(0) { count, byte in
                let isControl = byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D && byte != 0x0C && byte != 0x0B
                return count + (isControl || byte == 0x7F ? 1 : 0)
            }
            if suspicious > Swift.max(4, sample.count / 20) { return "it looks like a binary file, not a list" }
            return nil
        }
    }

    fileprivate enum Opening {
        case failure(InputFileError)
        case stream(any ByteSource, path: String)
        case member(ZipArchive, ZipMember)
    }

    private var paths: IndexingIterator<[String]>
    private let options: InputOptions
    private var archive: ZipArchive?
    /// Members matching `--member` in the current archive.
    private var chosen = 0

    public init(paths: [String], options: InputOptions) {
        self.paths = paths.makeIterator()
        self.options = options
    }

    public mutating func next() -> Input? {
        while true {
            if let archive {
                if let input = nextMember(of: archive) { return input }
                continue
            }
            guard let path = paths.next() else { return nil }
            let name = path == "-" ? "stdin" : path
            do {
                let file = PeekableSource(try FileSource(path: path))
                switch InputPacking(magic: try file.peek(4)) {
                case .gzip:
                    return Input(name: name, opening: .stream(GzipSource(file, path: path, displayName: name), path: path), options: options)
                case .zip:
                    archive = ZipArchive(file, path: path, displayName: name)
                    chosen = 0
                    continue
                case .none:
                    return Input(name: name, opening: .stream(file, path: path), options: options)
                }
            } catch {
                return Input(name: name, opening: .failure(error), options: options)
            }
        }
    }

    /// The next member worth an ``Input``, or a closing problem; `nil` (and the archive is done) after the last.
    private mutating func nextMember(of archive: ZipArchive) -> Input? {
        let name = archive.displayName
        do {
            while let member = try archive.nextMember() {
                // .xlsx, .docx (Office Open XML) and .ods (OpenDocument) are zip archives of XML, not of lists.
                if archive.memberIndex == 1, options.member == nil, member.name == "[Content_Types].xml" || member.name == "mimetype" {
                    self.archive = nil
                    let message = "\(name) is a spreadsheet or office document (.xlsx, .ods: a zip of XML), not a zip of lists; export it as CSV first"
                    return Input(name: name, opening: .failure(InputFileError(path: archive.path, message: message)), options: options)
                }
                // macOS Archive Utility's resource forks: never lists, not worth a note.
                if member.name.hasPrefix("__MACOSX/") { continue }
                if let wanted = options.member, member.name != wanted, member.name.split(separator: "/").last.map(String.init) != wanted {
                    archive.passedOver.append(member.name)
                    continue
                }
                chosen += 1
                return Input(name: archive.name(of: member), opening: .member(archive, member), options: options)
            }
        } catch {
            self.archive = nil
            return Input(name: name, opening: .failure(error), options: options)
        }
        self.archive = nil
        let seen = archive.passedOver.prefix(10).joined(separator: ", ") + (archive.passedOver.count > 10 ? ", …" : "")
        if archive.memberIndex == 0 {
            return Input(name: name, opening: .failure(InputFileError(path: archive.path, message: "\(name) is an empty zip archive (it has no members)")), options: options)
        }
        if let wanted = options.member, chosen == 0 {
            return Input(name: name, opening: .failure(InputFileError(path: archive.path, message: "\(name) has no member named '\(wanted)'; it has: \(seen)")), options: options)
        }
        if options.member == nil, archive.listsOpened == 0, !archive.passedOver.isEmpty {
            return Input(name: name, opening: .failure(InputFileError(path: archive.path, message: "\(name) has no text or CSV member (it has: \(seen)); pass --member NAME to read one anyway")), options: options)
        }
        return nil
    }
}

/// How a file is packed, from its first bytes (its name is not asked).
enum InputPacking {
    case none, gzip, zip

    init(magic: ArraySlice<UInt8>) {
        if magic.starts(with: [0x1F, 0x8B]) {
            self = .gzip
        } else if magic.starts(with: [0x50, 0x4B, 0x03, 0x04]) || magic.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            // A local file header, or the end record an empty archive consists of.
            self = .zip
        } else {
            self = .none
        }
    }
}
