/// The credentials the sandbox's fakes accept.
///
/// Each fake also accepts further accounts: the same values with one suffix `-NAME` added to every part (for
/// example Dynadot key `sandbox-dynadot-key-2`, or Gname appid `sandbox-gname-appid-b` with appkey
/// `sandbox-gname-appkey-b`). Each account has its own lists, its own Dynadot "processing" flag and its own
/// rate window.
public enum SandboxCredentials {
    public static let dynadotKey = "sandbox-dynadot-key"
    public static let gnameAppID = "sandbox-gname-appid"
    public static let gnameAppKey = "sandbox-gname-appkey"
    public static let gnameChannel = "1"
    public static let yayReseller = "sandbox-reseller"
    public static let yayUser = "sandbox-user"
    public static let yayPassword = "sandbox-yay-password"
    public static let oneapiLogin = "sandbox-1api"
    public static let oneapiPassword = "sandbox-1api-password"
    /// ISPAPI's test system entity; the sandbox refuses the live one (`54cd`) like the test system would.
    public static let oneapiEntity = "1234"
    public static let dnspodLoginToken = "10001,sandbox-dnspod-token"

    /// The environment a `bo-batch` process needs to talk to `server` instead of the real providers.
    public static func environment(for server: SandboxServer) -> [String: String] {
        [
            "DYNADOT_API_KEY": dynadotKey,
            "DYNADOT_ENDPOINT": server.endpoint(for: "dynadot"),
            "GNAME_APPID": gnameAppID,
            "GNAME_APPKEY": gnameAppKey,
            "GNAME_CHANNEL": gnameChannel,
            "GNAME_ENDPOINT": server.endpoint(for: "gname"),
            "YAY_RESELLER": yayReseller,
            "YAY_USER": yayUser,
            "YAY_PASSWORD": yayPassword,
            "YAY_ENDPOINT": server.endpoint(for: "yay"),
            "ONEAPI_LOGIN": oneapiLogin,
            "ONEAPI_PASSWORD": oneapiPassword,
            "ONEAPI_ENTITY": oneapiEntity,
            "ONEAPI_ENDPOINT": server.endpoint(for: "oneapi"),
            "DNSPOD_LOGIN_TOKEN": dnspodLoginToken,
            "DNSPOD_ENDPOINT": server.endpoint(for: "dnspod"),
        ]
    }

    /// The account suffix (`""` for the base account, `"-NAME"` for another) when `value` is `base` or
    /// `base-NAME`; nil otherwise.
    static func accountSuffix(_ value: String?, base: String) -> String? {
        guard let value else { return nil }
        if value == base { return "" }
        guard value.hasPrefix(base + "-"), value.count > base.count + 1 else { return nil }
        return String(value.dropFirst(base.count))
    }
}
