/// What `StatusDomainApplication` tells about one backorder application.
public struct OneAPIApplicationStatus: Sendable, Equatable {
    public var application: String
    /// The domain, as 1API spells it (lowercased), when the answer names it.
    public var domain: String?
    /// 1API's status word (REQUESTED, ...), when given.
    public var status: String?
    /// Every `PROPERTY[NAME][i]` of the answer by upper-cased NAME, values in index order.
    public var properties: [String: [String]]

    public init(application: String, domain: String?, status: String?, properties: [String: [String]]) {
        self.application = application
        self.domain = domain
        self.status = status
        self.properties = properties
    }
}
