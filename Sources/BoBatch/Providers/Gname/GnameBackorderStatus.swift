/// One backorder as Gname's `/api/backorder/info` describes it, for reporting what became of it after the drop.
public struct GnameBackorderStatus: Sendable, Equatable {
    /// Gname's `zt`.
    public enum Phase: Sendable, Equatable, CustomStringConvertible {
        case inBackorder, wonDirectly, wonAtAuction, inAuction, wonByOthers, auctionLost, redeemed, dropCatchLost
        /// A code Gname did not document (nil when the answer had none).
        case other(Int?)

        public init(code: Int?) {
            switch code {
            case 0: self = .inBackorder
            case 1: self = .wonDirectly
            case 2: self = .wonAtAuction
            case 3: self = .inAuction
            case 4: self = .wonByOthers
            case 5: self = .auctionLost
            case 6: self = .redeemed
            case 7: self = .dropCatchLost
            default: self = .other(code)
            }
        }

        public var description: String {
            switch self {
            case .inBackorder: "in backorder"
            case .wonDirectly: "won directly"
            case .wonAtAuction: "won at auction"
            case .inAuction: "in auction"
            case .wonByOthers: "won by others"
            case .auctionLost: "auction lost"
            case .redeemed: "redeemed"
            case .dropCatchLost: "drop-catch lost"
            case .other(let code?): "status \(code)"
            case .other(nil): "status not given"
            }
        }

        public var isWon: Bool { self == .wonDirectly || self == .wonAtAuction }
        /// Nothing more will happen to this backorder.
        public var isFinal: Bool {
            switch self {
            case .wonDirectly, .wonAtAuction, .wonByOthers, .auctionLost, .redeemed, .dropCatchLost: true
            case .inBackorder, .inAuction, .other: false
            }
        }
    }

    /// Gname's backorder id (`id`).
    public var id: String
    /// The domain as Gname wrote it (`ym`).
    public var domain: String
    public var phase: Phase
    /// Gname's own wording of the phase (`ztstr`), when it sent one.
    public var phaseText: String?
    /// `sclx`: how the registry deletes the domain.
    public var deletionTypeCode: Int?
    /// `sclxstr`, or the documented name for `sclx`.
    public var deletionType: String?
    /// `td`.
    public var channel: String?
    /// `qian`: the budget.
    public var budget: String?
    /// `dqian`: the deposit frozen for it.
    public var frozen: String?
    /// `sj`: when it was placed (Gname's local time, UTC+8).
    public var placedAt: String?
    /// `scsj`: the deletion date.
    public var deletionDate: String?

    public init(
        id: String, domain: String, phase: Phase, phaseText: String? = nil, deletionTypeCode: Int? = nil,
        deletionType: String? = nil, channel: String? = nil, budget: String? = nil, frozen: String? = nil,
        placedAt: String? = nil, deletionDate: String? = nil
    ) {
        self.id = id
        self.domain = domain
        self.phase = phase
        self.phaseText = phaseText
        self.deletionTypeCode = deletionTypeCode
        self.deletionType = deletionType
        self.channel = channel
        self.budget = budget
        self.frozen = frozen
        self.placedAt = placedAt
        self.deletionDate = deletionDate
    }

    /// Names of Gname's documented deletion types (`sclx`).
    public static func deletionTypeName(_ code: Int) -> String? {
        switch code {
        case 1: "Delete"
        case 2: "Sna-Pre"
        case 7: "Name-Pre"
        case 13: "Gd-Pre"
        case 15: "Dy-Pre"
        case 16: "Nsl-Pre"
        case 19: "Drop-Pre"
        case 23: "Gname-Pre"
        case 29: "Nj-Pre"
        case 89: "Jm-Pre"
        case 90: "Jmgj-Pre"
        default: nil
        }
    }
}
