/// A provider ready to run as a lane: the client and the pacing it must keep.
public struct LaneSetup: Sendable {
    public var provider: any Provider
    public var settings: LaneSettings

    public init(provider: any Provider, settings: LaneSettings) {
        self.provider = provider
        self.settings = settings
    }
}
