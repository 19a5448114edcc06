import Foundation

/// DNSPod's JSON envelope, `{"status":{"code":"1","message":"…","created_at":"…"}, …}`, as plain values.
/// The code is documented as a string; numbers are accepted too, since a wrong guess here would turn an
/// answer into "no usable answer".
struct DNSPodAnswer: Sendable, Equatable {
    enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case notJSON
        case noStatus
        case noCode

        var description: String {
            switch self {
            case .notJSON: "the answer is not a JSON object"
            case .noStatus: "the answer has no status object"
            case .noCode: "the answer's status has no code"
            }
        }
    }

    /// Normalized: trimmed, and integral numbers written without a fraction ("1", "-2").
    var code: String
    var message: String
    var createdAt: String?
    /// `Domain.Acquire`'s WHOIS addresses, in DNSPod's order; entries that are not strings are dropped.
    var emails: [String]

    init(code: String, message: String, createdAt: String? = nil, emails: [String] = []) {
        self.code = code
        self.message = message
        self.createdAt = createdAt
        self.emails = emails
    }

    init(parsing body: [UInt8]) throws(ParseError) {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(body))
        } catch {
            throw .notJSON
        }
        guard let status = envelope.status else { throw .noStatus }
        guard let code = status.code?.text, !code.isEmpty else { throw .noCode }
        self.init(code: code, message: status.message?.text ?? "", createdAt: status.created_at?.text, emails: envelope.emails?.values ?? [])
    }

    private struct Envelope: Decodable {
        var status: Status?
        var emails: LenientStrings?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            // A status that is not an object is treated like a missing one, not like unreadable JSON.
            status = try? container.decodeIfPresent(Status.self, forKey: .status)
            emails = try? container.decodeIfPresent(LenientStrings.self, forKey: .emails)
        }

        enum Keys: String, CodingKey { case status, emails }
    }

    private struct Status: Decodable {
        var code: Scalar?
        var message: Scalar?
        var created_at: Scalar?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            code = try? container.decodeIfPresent(Scalar.self, forKey: .code)
            message = try? container.decodeIfPresent(Scalar.self, forKey: .message)
            created_at = try? container.decodeIfPresent(Scalar.self, forKey: .created_at)
        }

        enum Keys: String, CodingKey { case code, message, created_at }
    }

    /// A string or a number, as text. Booleans and containers do not decode.
    private struct Scalar: Decodable {
        var text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                text = string.trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let int = try? container.decode(Int.self) {
                text = String(int)
            } else {
                let double = try container.decode(Double.self)
                guard double.isFinite else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "not finite") }
                text = double == double.rounded() && abs(double) < 1e15 ? String(Int(double)) : String(double)
            }
        }
    }

    /// An array of which only the string elements are kept; a lone string counts as a list of one.
    private struct LenientStrings: Decodable {
        var values: [String] = []

        init(from decoder: any Decoder) throws {
            if var list = try? decoder.unkeyedContainer() {
                while !list.isAtEnd {
                    let before = list.currentIndex
                    if let value = try? list.decode(String.self) {
                        values.append(value.trimmingCharacters(in: .whitespacesAndNewlines))
                    } else if (try? list.decodeNil()) != true {
                        _ = try? list.decode(Skip.self)
                    }
                    // A decoder that fails without moving on would loop forever.
                    if list.currentIndex == before { break }
                }
            } else if let single = try? decoder.singleValueContainer().decode(String.self) {
                values = [single.trimmingCharacters(in: .whitespacesAndNewlines)]
            }
        }
    }

    private struct Skip: Decodable {
        init(from decoder: any Decoder) throws {}
    }
}
