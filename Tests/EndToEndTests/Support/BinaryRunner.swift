import Foundation

/// Runs the real `bo-batch` binary built by `swift build` (or `$BO_BATCH_BIN`) as a child process.
struct BinaryRunner {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The test bundle and the executable are products of the same `swift build`, in the same folder, whatever
    /// the configuration, triple or `--scratch-path`.
    static let binary: String = {
        if let bin = ProcessInfo.processInfo.environment["BO_BATCH_BIN"], !bin.isEmpty { return bin }
        let tests = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = tests.deletingLastPathComponent()
        // On macOS the tests run inside NAME.xctest/Contents/MacOS.
        while folder.path != "/", folder.pathComponents.contains(where: { $0.hasSuffix(".xctest") }) { folder.deleteLastPathComponent() }
        let sibling = folder.appendingPathComponent("bo-batch").path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        return packageRoot.appendingPathComponent(".build/debug/bo-batch").path
    }()

    /// A minimal environment: nothing from the developer's shell leaks in (no real keys).
    static func baseEnvironment(state: String) -> [String: String] {
        ["PATH": "/usr/bin:/bin", "HOME": state, "BO_BATCH_STATE_DIR": state, "LANG": "C.UTF-8"]
    }

    static func run(_ arguments: [String], environment: [String: String], directory: String, stdin: Data? = nil) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
        // Blocking reads and waits run on dispatch threads, never on the Swift concurrency pool: the in-process
        // sandbox answering the child needs that pool (2 threads on a 2-core machine).
        async let stdoutData = offPool { out.fileHandleForReading.readDataToEndOfFile() }
        async let stderrData = offPool { err.fileHandleForReading.readDataToEndOfFile() }
        let (o, e) = await (stdoutData, stderrData)
        await offPool { process.waitUntilExit() }
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}

enum Scratch {
    static func directory() -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("bo-batch-e2e-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, to path: String) {
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }
}
