import Foundation

/// Where the ledger lives: `--state DIR`, else `$BO_BATCH_STATE_DIR`, else `$XDG_STATE_HOME/bo-batch`,
/// else `~/.local/state/bo-batch`.
public enum StateDirectory {
    public static func resolve(option: String?, environment: [String: String]) -> String {
        if let option, !option.isEmpty { return option }
        if let dir = environment["BO_BATCH_STATE_DIR"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return (xdg as NSString).appendingPathComponent("bo-batch") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/state/bo-batch")
    }
}
