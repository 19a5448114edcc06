import Foundation

/// The orders one whole-account refresh asks about, held compactly (issue 11, "flat memory").
///
/// A provider that lists the whole account (Dynadot's `backorder_request_list` of 100,000 requests) must match
/// every listed entry against the asked orders, so it needs all of them at once. As `[PlacedOrder]` (plus the
/// dictionaries built from it) that cost about a kilobyte per order; here an order is its name's bytes in one
/// shared buffer, its pair id, two times and a slot of an open-addressing index: about 50 bytes. Orders are
/// addressed by their position (0..<count), which is the ledger's order (pair id) when built by
/// ``FollowUpLane``; ``FateSink`` reports use the same positions.
public struct OrderSet: Sendable {
    /// Every order's ASCII name, back to back; `nameEnds[i]` is where order i's name ends.
    private var names: [UInt8] = []
    private var nameEnds: [UInt32] = []
    /// References, back to back (most providers have none); `referenceEnds[i]` is where order i's ends,
    /// `hasReference` says which orders had one (an empty reference is not the same as none).
    private var references: [UInt8] = []
    private var referenceEnds: [UInt32] = []
    private var hasReference: [Bool] = []
    /// The pair id of each order (what the ledger records by).
    private var ids: [Int] = []
    private var placed: [Double] = []
    /// The drop time, NaN when the input gave none.
    private var drops: [Double] = []
    /// Open addressing over positions (-1 empty), at most half full; built by ``append(_:)``.
    private var slots: [Int32] = []

    public init() {}

    /// The set of `orders`, in their order.
    public init(_ orders: some Sequence<PlacedOrder>) {
        for (i, order) in orders.enumerated() { append(id: i, order) }
    }

    public var count: Int { ids.count }
    public var isEmpty: Bool { ids.isEmpty }

    /// Adds an order; a name already in the set is not added again (a run holds each name once per provider).
    public mutating func append(id: Int, _ order: PlacedOrder) {
        if index(of: order.domain.ascii) != nil { return }
        if (ids.count + 1) * 2 > slots.count { grow() }
        names.append(contentsOf: order.domain.ascii.utf8)
        nameEnds.append(UInt32(names.count))
        if let reference = order.reference { references.append(contentsOf: reference.utf8) }
        referenceEnds.append(UInt32(references.count))
        hasReference.append(order.reference != nil)
        ids.append(id)
        placed.append(order.placedAt.timeIntervalSince1970)
        drops.append(order.dropTime?.timeIntervalSince1970 ?? .nan)
        insert(ids.count - 1)
    }

    /// The position of the order named `name` (as `DomainName.ascii` spells it), if asked.
    public func index(of name: String) -> Int? {
        guard !slots.isEmpty else { return nil }
        var name = name
        return name.withUTF8 { bytes in
            let mask = slots.count - 1
            var slot = Self.hash(bytes) & mask
            while true {
                let at = Int(slots[slot])
                if at < 0 { return nil }
                if nameBytesEqual(at, bytes) { return at }
                slot = (slot + 1) & mask
            }
        }
    }

    public func id(at index: Int) -> Int { ids[index] }

    public func domain(at index: Int) -> DomainName {
        let start = index == 0 ? 0 : Int(nameEnds[index - 1])
        return DomainName(validatedASCII: String(decoding: names[start..<Int(nameEnds[index])], as: UTF8.self))
    }

    public func placedAt(at index: Int) -> Date { Date(timeIntervalSince1970: placed[index]) }

    public func dropTime(at index: Int) -> Date? { drops[index].isNaN ? nil : Date(timeIntervalSince1970: drops[index]) }

    /// The earlier of the order's placement and drop time (where a listing filtered by day must start).
    public func earliest(at index: Int) -> Date {
        Date(timeIntervalSince1970: drops[index].isNaN ? placed[index] : min(placed[index], drops[index]))
    }

    /// The later of the order's placement and drop time.
    public func latest(at index: Int) -> Date {
        Date(timeIntervalSince1970: drops[index].isNaN ? placed[index] : max(placed[index], drops[index]))
    }

    public func order(at index: Int) -> PlacedOrder {
        var reference: String?
        if hasReference[index] {
            let start = index == 0 ? 0 : Int(referenceEnds[index - 1])
            reference = String(decoding: references[start..<Int(referenceEnds[index])], as: UTF8.self)
        }
        return PlacedOrder(domain: domain(at: index), reference: reference, dropTime: dropTime(at: index), placedAt: placedAt(at: index))
    }

    /// Every order as ``PlacedOrder`` (for a provider that refreshes from an array).
    public var orders: [PlacedOrder] { (0..<count).map(order(at:)) }

    /// The earliest and latest of ``earliest(at:)`` / ``latest(at:)`` over the set; nil when empty.
    public var span: (earliest: Date, latest: Date)? {
        guard !isEmpty else { return nil }
        var low = Double.infinity, high = -Double.infinity
        for i in 0..<count {
            let drop = drops[i], at = placed[i]
            low = Swift.min(low, drop.isNaN ? at : Swift.min(at, drop))
            high = Swift.max(high, drop.isNaN ? at : Swift.max(at, drop))
        }
        return (Date(timeIntervalSince1970: low), Date(timeIntervalSince1970: high))
    }

    // MARK: the index

    private func nameBytesEqual(_ index: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = index == 0 ? 0 : Int(nameEnds[index - 1])
        let end = Int(nameEnds[index])
        guard end - start == bytes.count else { return false }
        return names.withUnsafeBufferPointer { all in
            bytes.count == 0 || memcmp(all.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0
        }
    }

    private func nameHash(_ index: Int) -> Int {
        let start = index == 0 ? 0 : Int(nameEnds[index - 1])
        return names.withUnsafeBufferPointer { Self.hash(UnsafeBufferPointer(rebasing: $0[start..<Int(nameEnds[index])])) }
    }

    private mutating func insert(_ index: Int) {
        let mask = slots.count - 1
        var slot = nameHash(index) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: Swift.max(16, slots.count * 2))
        for i in 0..<ids.count { insert(i) }
    }

    /// FNV-1a, 64 bits: stable, cheap, and good enough for domain names (which the ledger already checked).
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}

/// Where a whole-account refresh hands its reports, a slice at a time, by ``OrderSet`` position, instead of
/// returning one dictionary of every order: the lane records each slice in the ledger and lets it go, so no
/// more than a slice of reports exists at once. Called from the provider's task, one slice after the other.
public typealias FateSink = @Sendable (_ slice: [(index: Int, report: FateReport)]) -> Void

/// Collects reports into slices of ``size`` for a ``FateSink``.
public struct FateSlicer {
    /// Reports per slice: one ledger transaction each.
    public static let size = 1000
    private let sink: FateSink
    private var pending: [(index: Int, report: FateReport)] = []
    /// Reports handed over so far.
    public private(set) var handed = 0

    public init(_ sink: @escaping FateSink) {
        self.sink = sink
        pending.reserveCapacity(Self.size)
    }

    public mutating func add(_ index: Int, _ report: FateReport) {
        pending.append((index, report))
        if pending.count >= Self.size { flush() }
    }

    /// Hands over what is pending (call once at the end).
    public mutating func flush() {
        guard !pending.isEmpty else { return }
        handed += pending.count
        sink(pending)
        pending.removeAll(keepingCapacity: true)
    }
}

/// A ``FateSink`` that keeps every report, for the callers that want one dictionary (the array form of a
/// streaming provider's refresh, tests).
final class FateCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [(index: Int, report: FateReport)] = []

    func add(_ slice: [(index: Int, report: FateReport)]) {
        lock.withLock { collected += slice }
    }

    /// The reports by domain; of two for one order, the later one (as the ledger would keep).
    func reports(in orders: OrderSet) -> [DomainName: FateReport] {
        lock.withLock {
            var out: [DomainName: FateReport] = [:]
            for (index, report) in collected { out[orders.domain(at: index)] = report }
            return out
        }
    }
}
