import ArgumentParser
import BoBatchHTTP
import Foundation
import Logging

/// `--log-format` and `--log-file`, shared by every command that sends (`@OptionGroup`).
struct LogOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .customLong("log-format"), help: ArgumentHelp("text, or json: one JSON object per line (NDJSON) with time, level, run, provider, intent, event, domains, duration_ms; for log shippers.", valueName: "text|json"))
    var format: Format = .text

    @Option(name: .customLong("log-file"), help: ArgumentHelp("Also append every lane decision (sends, answers with their duration, refusals, lookups, halts) to this file, created private (0600); secrets are masked as everywhere. Without it, logs go to stderr only with --verbose.", valueName: "path"))
    var file: String?
}

/// swift-log, set up once per process. On stderr only with --verbose (the summary already says what a cron mail
/// needs); with `--log-file`, every decision (each send and answer too) is appended to the file as well.
/// Both go through ``LogSink``, which masks every credential the selected providers declare, in every form
/// ``secretForms(_:)`` knows, before a byte is written.
enum LogSetup {
    /// What the handlers write through: set the run and the secrets once they are known.
    static let sink = LogSink()

    /// Opens the log file (a usage error naming it if it cannot be) and bootstraps swift-log.
    static func bootstrap(verbose: Bool, options: LogOptions) throws {
        try bootstrap(verbose: verbose, format: options.format, file: options.file)
    }

    /// For commands without the logging options: stderr with --verbose, nothing else. (A `LogOptions()` made
    /// here would be a parsable-arguments value never parsed, which ArgumentParser refuses to read.)
    static func bootstrap(verbose: Bool) {
        try? bootstrap(verbose: verbose, format: .text, file: nil)
    }

    private static func bootstrap(verbose: Bool, format: LogOptions.Format, file: String?) throws {
        if let path = file {
            do {
                try sink.openFile(path)
            } catch {
                Terminal.error("bo-batch: --log-file \(path): \(error); give a writable path")
                throw ExitCode(2)
            }
        }
        let hasFile = file != nil
        LoggingSystem.bootstrap { label in
            var handlers: [any LogHandler] = [
                SinkLogHandler(label: label, format: format, target: .standardError, level: verbose ? .debug : .critical)
            ]
            if hasFile { handlers.append(SinkLogHandler(label: label, format: format, target: .file, level: .debug)) }
            return handlers.count == 1 ? handlers[0] : MultiplexLogHandler(handlers)
        }
    }
}

/// Where log lines go, with what every line needs that only the command learns after start: the run's name and
/// the secrets to mask.
final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var fileHandle: FileHandle?
    private var secrets: [String] = []
    private var runName: String?

    func openFile(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LogFileError(reason: String(cString: strerror(errno))) }
        lock.withLock { fileHandle = FileHandle(fileDescriptor: fd, closeOnDealloc: true) }
    }

    /// The credentials of the selected providers: masked in every line from now on.
    func mask(_ values: [String]) {
        lock.withLock { secrets = values.filter { !$0.isEmpty } }
    }

    var run: String? {
        get { lock.withLock { runName } }
        set { lock.withLock { runName = newValue } }
    }

    enum Target { case standardError, file }

    func write(_ line: String, to target: Target) {
        let (secrets, handle) = lock.withLock { (self.secrets, fileHandle) }
        let clean = redact(line, secrets: secrets) + "\n"
        switch target {
        case .standardError: FileHandle.standardError.write(Data(clean.utf8))
        case .file: handle?.write(Data(clean.utf8))
        }
    }
}

struct LogFileError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// One swift-log handler for both formats and both places.
struct SinkLogHandler: LogHandler {
    let label: String
    let format: LogOptions.Format
    let target: LogSink.Target
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogOptions.Format, target: LogSink.Target, level: Logger.Level) {
        self.label = label
        self.format = format
        self.target = target
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Metadata keys whose values are counts or ids: numbers in JSON.
    static let numericKeys: Set<String> = ["intent", "domains", "asked", "duration_ms", "refusals_in_a_row"]

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let sink = LogSetup.sink
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            sink.write("\(time) \(event.level) \(label):\(fields.isEmpty ? "" : " " + fields) \(event.message)", to: target)
        case .json:
            var object: [(String, String)] = [("time", Self.quoted(time)), ("level", Self.quoted(event.level.rawValue))]
            if let run = sink.run { object.append(("run", Self.quoted(run))) }
            object.append(("logger", Self.quoted(label)))
            object.append(("event", Self.quoted(event.message.description)))
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
                let text = "\(value)"
                object.append((key, Self.numericKeys.contains(key) && Double(text) != nil ? text : Self.quoted(text)))
            }
            sink.write("{" + object.map { "\(Self.quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}", to: target)
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
