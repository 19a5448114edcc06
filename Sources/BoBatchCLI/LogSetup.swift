import Logging

/// swift-log to stderr, only with --verbose: the summary already says what a cron mail needs.
enum LogSetup {
    static func bootstrap(verbose: Bool) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = verbose ? .debug : .critical
            return handler
        }
    }
}
