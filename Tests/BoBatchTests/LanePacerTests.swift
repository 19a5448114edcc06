@testable import BoBatch
import Foundation
import Testing

/// The adaptive pacer, on an injected clock: no real sleeping.
@Suite struct LanePacerTests {
    /// 10 requests a second, the default 1 s base and 60 s cap.
    static let policy = PacingPolicy(ceiling: 10)

    func pacer(_ policy: PacingPolicy = Self.policy, clock: TestClock = TestClock(), random: Double = 0.999) -> LanePacer {
        LanePacer(policy: policy, clock: clock, random: { random })
    }

    @Test func aBurstOfRefusalsLowersTheRateAndGrowsTheWait() async throws {
        let pacer = pacer()
        var waits: [Double] = []
        var rates: [Double] = []
        for _ in 0..<8 {
            // Each request is sent after the previous refusal: refusals in a row.
            let sentAt = try await pacer.acquire()
            waits.append(await pacer.refused(reason: "too frequent", retryAfter: nil, sentAt: sentAt))
            rates.append(await pacer.status().rate)
        }
        // Full jitter at its top: ~1, 2, 4, 8, 16, 32, then the 60 s cap.
        #expect(waits.map { ($0 * 10).rounded() / 10 } == [1, 2, 4, 8, 16, 32, 59.9, 59.9])
        // The rate drops with every refusal of a request sent after the previous cut...
        #expect(abs(rates[0] - 7) < 1e-9)
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $1 < $0 })
        // ...down to the floor: one request per cap.
        #expect(rates.last! >= 1.0 / 60 - 1e-9)
        let status = await pacer.status()
        #expect(status.streak == 8)
        #expect(status.reason == "too frequent")
        #expect(status.slowed)
    }

    @Test func requestsRefusedTogetherCutTheRateOnce() async throws {
        let pacer = pacer(PacingPolicy(ceiling: 1000))
        var sent: [Double] = []
        for _ in 0..<8 { sent.append(try await pacer.acquire()) }
        // All eight were on the wire when the first refusal came back.
        for sentAt in sent { _ = await pacer.refused(reason: "429", retryAfter: nil, sentAt: sentAt) }
        let status = await pacer.status()
        #expect(abs(status.rate - 1000 * 0.7) < 1e-9)
        #expect(status.streak == 1)
    }

    @Test func successesRestoreTheRate() async throws {
        let pacer = pacer()
        for _ in 0..<8 {
            let sentAt = try await pacer.acquire()
            _ = await pacer.refused(reason: "busy", retryAfter: nil, sentAt: sentAt)
        }
        #expect(await pacer.status().rate < 1)
        var answers = 0
        while await pacer.status().rate < Self.policy.ceiling {
            _ = try await pacer.acquire()
            await pacer.answered()
            answers += 1
            try #require(answers < 200, "the rate never came back")
        }
        // Quick recovery to the last refusal's rate, then a gentle probe up to the ceiling.
        #expect(answers > 5)
        let status = await pacer.status()
        #expect(status.streak == 0)
        #expect(status.reason == nil)
        #expect(!status.slowed)
    }

    @Test func retryAfterIsHonouredExactly() async throws {
        let pacer = pacer(random: 0)
        let first = try await pacer.acquire()
        #expect(await pacer.refused(reason: "503", retryAfter: 7, sentAt: first) == 7)
        // Beyond the cap too: the provider said so.
        let second = try await pacer.acquire()
        #expect(await pacer.refused(reason: "429", retryAfter: 120, sentAt: second) == 120)
        // Without it, full jitter (random 0 → no wait, but the rate still dropped).
        let third = try await pacer.acquire()
        #expect(await pacer.refused(reason: "busy", retryAfter: nil, sentAt: third) == 0)
        #expect(await pacer.status().rate < Self.policy.ceiling / 2)
    }

    @Test func requestsAreSpacedAtTheCurrentRate() async throws {
        let clock = TestClock()
        let pacer = pacer(clock: clock)
        let start = clock.now()
        for _ in 0..<11 { _ = try await pacer.acquire() }
        #expect(abs(clock.now() - start - 1.0) < 1e-6)
        let sentAt = try await pacer.acquire()
        _ = await pacer.refused(reason: "busy", retryAfter: nil, sentAt: sentAt)
        let before = clock.now()
        _ = try await pacer.acquire()
        // 70 % of the rate: 1/0.7 times the spacing.
        #expect(abs(clock.now() - before - 0.1 / 0.7) < 1e-6)
    }

    /// The lane-level promise: one refusal among hundreds of answers costs seconds, not minutes.
    @Test func aSingleRefusalAmongHundredsOfSuccessesCostsSeconds() async throws {
        func simulate(refuseAt: Set<Int>) async throws -> Double {
            let clock = TestClock()
            let pacer = LanePacer(policy: Self.policy, clock: clock, random: { 0.999 })
            let start = clock.now()
            var resendAt: Double?
            for i in 0..<500 {
                let sentAt = try await pacer.acquire()
                if refuseAt.contains(i) {
                    resendAt = sentAt + (await pacer.refused(reason: "too frequent", retryAfter: nil, sentAt: sentAt))
                } else {
                    await pacer.answered()
                }
            }
            return max(clock.now(), resendAt ?? 0) - start
        }
        let clean = try await simulate(refuseAt: [])
        let once = try await simulate(refuseAt: [250])
        #expect(clean > 49 && clean < 50.1)
        #expect(once - clean < 5, "one refusal cost \(once - clean) s")
        // Refusals at 5 % still keep the lane near its ceiling.
        let fivePercent = try await simulate(refuseAt: Set(stride(from: 10, to: 500, by: 20)))
        #expect(fivePercent < clean * 1.5, "5 % refusals took \(fivePercent) s against \(clean) s")
    }
}
