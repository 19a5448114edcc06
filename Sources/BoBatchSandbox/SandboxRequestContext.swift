import Hummingbird
import NIOCore

/// Request context that keeps the connection's channel, so a fake can close the connection instead of answering
/// (the `drop…` faults) without a special channel handler.
struct SandboxRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// When the request's bytes came in, and how its answer is held until its time (``ConnectionAnswerClock``);
    /// nil on a channel the sandbox did not set up (tests that drive a route directly).
    let answerClock: ConnectionAnswerClock?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        answerClock = ConnectionAnswerClock.of(source.channel)
    }

    /// Large enough for any request a client sends (a Gname bulk call of 100 names is a few kilobytes).
    var maxUploadSize: Int { 4 << 20 }
}
