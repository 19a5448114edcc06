import BoBatchCLI

await BoBatchCommand.main(arguments: nil)
