import Hummingbird
import NIOCore

/// A complete answer of a fake: status, headers and body text. Kept as text (not a `Response`) so the fault
/// layer can still cut it short, replace it or withhold it after the fake has processed the request.
struct Answer: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: String

    init(status: HTTPResponse.Status = .ok, contentType: String, body: String, headers: HTTPFields = [:]) {
        self.status = status
        self.headers = headers
        self.headers[.contentType] = contentType
        self.body = body
    }

    static func xml(_ body: String) -> Answer {
        Answer(contentType: "text/xml;charset=UTF-8", body: body)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, style: JSONValue.Style = .plain) -> Answer {
        Answer(status: status, contentType: "application/json; charset=utf-8", body: value.rendered(style))
    }

    static func text(_ body: String) -> Answer {
        Answer(contentType: "text/plain; charset=utf-8", body: body)
    }

    static func html(status: HTTPResponse.Status, _ body: String) -> Answer {
        Answer(status: status, contentType: "text/html", body: body)
    }

    var response: Response {
        if status == .noContent || status == .notModified {
            return Response(status: status, headers: headers, body: .init())
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The first half of the body (at least one byte short of it): a truncated answer.
    var truncated: Answer {
        var copy = self
        let bytes = Array(body.utf8)
        copy.body = String(decoding: bytes.prefix(max(0, min(bytes.count - 1, bytes.count / 2))), as: UTF8.self)
        return copy
    }

    var contentType: String { headers[.contentType] ?? "" }
}

/// A body too large for any sane client cap, streamed in 1 MiB pieces so the sandbox itself stays small.
enum HugeBody {
    static func response(status: HTTPResponse.Status, contentType: String, prefix: String, padding: Int,
                         paddingByte: UInt8 = UInt8(ascii: "A"), suffix: String) -> Response {
        let chunkSize = 1 << 20
        let total = prefix.utf8.count + padding + suffix.utf8.count
        let body = ResponseBody(contentLength: total) { writer in
            try await writer.write(ByteBuffer(string: prefix))
            var chunk = ByteBuffer()
            chunk.writeRepeatingByte(paddingByte, count: min(chunkSize, max(padding, 0)))
            var remaining = padding
            while remaining > 0 {
                let size = min(remaining, chunkSize)
                try await writer.write(chunk.getSlice(at: chunk.readerIndex, length: size)!)
                remaining -= size
            }
            try await writer.write(ByteBuffer(string: suffix))
            try await writer.finish(nil)
        }
        return Response(status: status, headers: [.contentType: contentType], body: body)
    }
}

extension HTTPFields {
    /// The first value of the header called `name`, ignoring case.
    func value(named name: String) -> String? {
        let wanted = name.lowercased()
        return first { $0.name.canonicalName == wanted }?.value
    }
}
