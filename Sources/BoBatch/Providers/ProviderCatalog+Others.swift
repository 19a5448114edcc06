extension ProviderCatalog {
    /// Providers other than Dynadot; filled in as each lands.
    static func makeOther(_ id: ProviderID, env: [String: String]) throws(ConfigurationError) -> (provider: any Provider, pacing: Pacing)? {
        nil
    }
}
