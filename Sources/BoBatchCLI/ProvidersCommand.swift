import ArgumentParser
import BoBatch
import Foundation

struct ProvidersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "providers",
        abstract: "List the providers: what they do, batch size, pacing in force, whether credentials are set, endpoint.",
        discussion: "Credentials are reported as set or not set; their values are never shown.")

    @OptionGroup var config: ConfigOption

    func run() throws {
        let env = try config.load().environment
        var rows: [[String]] = [["provider", "operation", "batch", "pacing", "credentials", "endpoint"]]
        var problems: [String] = []
        for id in ProviderID.allCases {
            let variables = ProviderCatalog.credentialVariables(id)
            do {
                if let setup = try ProviderCatalog.make(id, env: env) {
                    rows.append([id.rawValue, ProviderCatalog.operation(id), "\(setup.provider.maxBatch)", setup.settings.pacing.description, "set", setup.provider.endpointDescription])
                } else {
                    rows.append([id.rawValue, ProviderCatalog.operation(id), "-", "-", "not set (\(variables.joined(separator: ", ")))", "-"])
                }
            } catch {
                rows.append([id.rawValue, ProviderCatalog.operation(id), "-", "-", "invalid", "-"])
                problems.append("\(id.rawValue): \(error.message)")
            }
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        for row in rows {
            print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        for p in problems { Terminal.error("bo-batch: \(p)") }
        if !problems.isEmpty { throw ExitCode(ExitStatus.usage.rawValue) }
    }
}
