import Crypto
import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// The sandbox's HTTPS identity: a self-signed certificate for 127.0.0.1 and localhost, made at start.
///
/// The private key lives only in this process's memory — nothing secret is ever written or committed. The
/// certificate goes to a fresh temporary file, ``caFilePath``, which clients trust (`BO_BATCH_CA_FILE`, or
/// `curl --cacert`); it is removed at shutdown.
///
/// The key signs through ``CountingSigningKey``, so the sandbox can tell full TLS handshakes (the server signs
/// once per full TLS 1.3 handshake) from resumed ones (no signature): ``SandboxStats/tlsFullHandshakes``.
final class SandboxTLS: Sendable {
    let certificatePEM: String
    let caFilePath: String
    let configuration: TLSConfiguration
    let signingKey: CountingSigningKey

    init(host: String) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("bo-batch sandbox")
            CommonName("bo-batch sandbox (throwaway, \(ProcessInfo.processInfo.processIdentifier))")
        }
        var alternativeNames: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        if let address = IPv4Address(host), address.bytes != [127, 0, 0, 1] {
            alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(address.bytes))))
        } else if IPv4Address(host) == nil, host != "localhost" {
            alternativeNames.append(.dnsName(host))
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(30 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                // Its own trust anchor, as `openssl req -x509` makes them: OpenSSL accepts it as CA file and leaf.
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                KeyUsage(digitalSignature: true, keyCertSign: true)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        certificatePEM = try certificate.serializeAsPEM().pemString + "\n"

        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bo-batch-sandbox-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("sandbox-ca.pem")
        try Data(certificatePEM.utf8).write(to: file, options: .atomic)
        caFilePath = file.path

        signingKey = CountingSigningKey(key: key)
        configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(NIOSSLPrivateKey(customPrivateKey: signingKey)))
    }

    /// Deletes the certificate file and its folder.
    func removeFiles() {
        try? FileManager.default.removeItem(atPath: (caFilePath as NSString).deletingLastPathComponent)
    }
}

/// The sandbox's P-256 key, signing for BoringSSL through NIOSSL's custom-key hook and counting each signature.
final class CountingSigningKey: NIOSSLCustomPrivateKey, Hashable, @unchecked Sendable {
    private let key: P256.Signing.PrivateKey
    private let lock = NSLock()
    private var signatures = 0

    init(key: P256.Signing.PrivateKey) { self.key = key }

    /// How many TLS handshakes this key signed for: the full ones (a resumed handshake signs nothing).
    var signatureCount: Int { lock.withLock { signatures } }

    func resetCount() { lock.withLock { signatures = 0 } }

    var signatureAlgorithms: [SignatureAlgorithm] { [.ecdsaSecp256R1Sha256] }

    func sign(channel: any Channel, algorithm: SignatureAlgorithm, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        // BoringSSL hands over the message itself; P256's signature(for:) hashes it with SHA-256 first.
        do {
            let signature = try key.signature(for: Data(data.readableBytesView))
            lock.withLock { signatures += 1 }
            return channel.eventLoop.makeSucceededFuture(ByteBuffer(bytes: signature.derRepresentation))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func decrypt(channel: any Channel, data: ByteBuffer) -> EventLoopFuture<ByteBuffer> {
        channel.eventLoop.makeFailedFuture(SandboxError(message: "the sandbox key only signs"))
    }

    static func == (lhs: CountingSigningKey, rhs: CountingSigningKey) -> Bool { lhs === rhs }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// Dotted-quad parsing for the certificate's address, without Foundation's network types.
private struct IPv4Address: Equatable {
    let bytes: [UInt8]

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard let byte = UInt8(part) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }
}
