import BoBatchHTTP
import Testing

/// The error `send` threw, or a recorded issue when it answered instead.
func failure(
    _ transport: CurlTransport, _ request: HTTPRequest, sourceLocation: SourceLocation = #_sourceLocation
) async -> TransportError? {
    do {
        let response = try await transport.send(request)
        Issue.record("expected a TransportError, got HTTP \(response.status)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
