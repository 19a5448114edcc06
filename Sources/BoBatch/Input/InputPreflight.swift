/// The inputs `submit` cannot open at all, checked before anything is recorded: a night whose list did not
/// arrive (the cron job's download failed, the date in the name is wrong) must not pass for a night with
/// rejects (exit 1) and leave an empty run behind; it is a usage error (exit 2) that names the path.
public enum InputPreflight {
    /// One problem per input that cannot be opened (missing, unreadable, a directory), in the order given.
    public static func problems(_ paths: [String]) -> [InputFileError] {
        paths.compactMap { FileSource.problem(opening: $0) }
    }
}
