import type { Server, TLSSocket } from 'node:tls';
import type { TlsCredentials } from '../core/upstream/mtls.js';
import { parseSpiffeId, spiffeIdOfSan, type Identity } from '../mesh/identity.js';

/** The verified caller of an inbound connection, read once per connection. */
export interface Peer {
  readonly spiffeId: string;
  readonly identity: Identity | undefined;
}

const kPeer = Symbol('sekisho.peer');
type PeerSocket = TLSSocket & { [kPeer]?: Peer };

export function peerOf(socket: unknown): Peer | undefined {
  return (socket as PeerSocket)[kPeer];
}

/**
 * Makes `server` accept only mutual TLS with certificates of the mesh CA (a plaintext client or
 * a certificate from another CA fails the handshake), and records each connection's peer identity
 * on its socket. Called again with renewed credentials; connections already open keep theirs.
 */
export function useMeshTls(server: Server, credentials: TlsCredentials, first: boolean): void {
  server.setSecureContext({ cert: credentials.certPem, key: credentials.keyPem, ca: credentials.caPem, minVersion: 'TLSv1.3' });
  const tlsServer = server as Server & { requestCert: boolean; rejectUnauthorized: boolean };
  tlsServer.requestCert = true;
  tlsServer.rejectUnauthorized = true;
  if (first) server.on('secureConnection', recordPeer);
}

function recordPeer(socket: TLSSocket): void {
  const spiffeId = spiffeIdOfSan(socket.getPeerCertificate().subjectaltname);
  (socket as PeerSocket)[kPeer] = { spiffeId, identity: parseSpiffeId(spiffeId) };
}
