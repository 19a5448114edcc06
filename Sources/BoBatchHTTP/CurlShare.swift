import CCurl
import Foundation

/// One libcurl share handle per transport: its worker handles pool their TLS sessions and DNS answers.
///
/// Why: every new connection pays a TLS handshake (each worker opens its own; servers close idle ones).
/// A cached session lets that handshake resume (TLS 1.3 PSK): no certificate chain to send and verify, no
/// signature — less CPU on both ends. Resumption changes nothing about how often a request is sent, and
/// libcurl 7.88 sends no TLS early data (0-RTT, which a network could replay). Each easy handle already keeps
/// its own session cache; sharing means a worker's first connection to a host resumes too, and one lookup's
/// DNS answer serves every worker.
///
/// The workers run on their own threads, so libcurl needs lock callbacks: one mutex per kind of shared data.
final class CurlShare: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer?
    private let locks: UnsafeMutablePointer<pthread_mutex_t>
    private static let lockCount = Int(CURL_LOCK_DATA_LAST.rawValue) + 1

    init() {
        locks = .allocate(capacity: Self.lockCount)
        for index in 0..<Self.lockCount { pthread_mutex_init(locks + index, nil) }
        guard let share = curl_share_init() else {
            handle = nil
            return
        }
        var ok = bb_curl_share_setopt_ptr(share, CURLSHOPT_USERDATA, UnsafeMutableRawPointer(locks)) == CURLSHE_OK
        ok = ok && bb_curl_share_setopt_lock(share) { _, data, _, context in
            let locks = context!.assumingMemoryBound(to: pthread_mutex_t.self)
            pthread_mutex_lock(locks + Int(data.rawValue))
        } == CURLSHE_OK
        ok = ok && bb_curl_share_setopt_unlock(share) { _, data, context in
            let locks = context!.assumingMemoryBound(to: pthread_mutex_t.self)
            pthread_mutex_unlock(locks + Int(data.rawValue))
        } == CURLSHE_OK
        ok = ok && bb_curl_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_SSL_SESSION.rawValue)) == CURLSHE_OK
        ok = ok && bb_curl_share_setopt_long(share, CURLSHOPT_SHARE, Int(CURL_LOCK_DATA_DNS.rawValue)) == CURLSHE_OK
        if ok {
            handle = share
        } else {
            // Without sharing every worker still works, it just keeps its own caches.
            curl_share_cleanup(share)
            handle = nil
        }
    }

    /// Only after every easy handle that used the share is cleaned up (libcurl refuses while one is attached).
    func close() {
        if let handle { curl_share_cleanup(handle) }
        for index in 0..<Self.lockCount { pthread_mutex_destroy(locks + index) }
        locks.deallocate()
    }
}
