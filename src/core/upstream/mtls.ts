import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { ConnectionPool } from './connection-pool.js';
import type { UpstreamHandler, UpstreamRequest, UpstreamTransport } from './transport.js';

/** The proxy's own certificate and key and the CA its peers must chain to, all PEM. */
export interface TlsCredentials {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

/** Where the current credentials are read; a renewal replaces the object (never mutates it). */
export interface CredentialSource {
  readonly current: TlsCredentials;
}

export interface MtlsOptions {
  readonly connectTimeoutMs: number;
  /** The URI SAN the peer's certificate must carry: the identity of the service meant. */
  readonly expectedIdentity: string;
  readonly credentials: CredentialSource;
}

/**
 * HTTP/1.1 over mutual TLS to a mesh peer (another proxy's inbound listener). The peer must
 * present a certificate from the mesh CA whose SPIFFE ID is the service this endpoint belongs
 * to; we present ours. When our certificate is renewed, the next request opens a new pool with
 * it and the old pool closes once its in-flight requests have finished — no request fails.
 */
export class MtlsTransport implements UpstreamTransport {
  private pool: ConnectionPool;
  private poolCredentials: TlsCredentials;

  constructor(
    private readonly origin: string,
    private readonly options: MtlsOptions,
  ) {
    this.poolCredentials = options.credentials.current;
    this.pool = this.newPool(this.poolCredentials);
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.currentPool().dispatch(request, handler);
  }

  probe(path: string, timeoutMs: number): Promise<number> {
    return this.currentPool().probe(path, timeoutMs);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** The pool for the credentials in force: one reference comparison per request. */
  private currentPool(): ConnectionPool {
    const current = this.options.credentials.current;
    if (current !== this.poolCredentials) {
      void this.pool.close();
      this.poolCredentials = current;
      this.pool = this.newPool(current);
    }
    return this.pool;
  }

  private newPool(credentials: TlsCredentials): ConnectionPool {
    const expected = this.options.expectedIdentity;
    return new ConnectionPool(this.origin, {
      connectTimeoutMs: this.options.connectTimeoutMs,
      tls: {
        secureContext: secureContextOf(credentials),
        rejectUnauthorized: true,
        // No `session` is ever given, so no handshake is resumed: a resumed session would skip
        // the certificate exchange, and with it the identity check.
        checkServerIdentity: (_host: string, cert: PeerCertificate) => checkPeerIdentity(cert, expected),
      },
    });
  }
}

const contexts = new WeakMap<TlsCredentials, SecureContext>();

/**
 * One TLS context per set of credentials, shared by every pool and connection that uses them:
 * building one parses the PEM key and certificates, which per connection cost a sidecar several
 * per cent of its CPU. A renewal brings a new credentials object, hence a new context.
 */
function secureContextOf(credentials: TlsCredentials): SecureContext {
  let context = contexts.get(credentials);
  if (context === undefined) {
    context = createSecureContext({ ca: credentials.caPem, cert: credentials.certPem, key: credentials.keyPem, minVersion: 'TLSv1.3' });
    contexts.set(credentials, context);
  }
  return context;
}

/** The peer is who we meant to reach only if its certificate's URI SAN is exactly `expected`. */
export function checkPeerIdentity(cert: PeerCertificate, expected: string): Error | undefined {
  const sans = (cert.subjectaltname ?? '').split(', ');
  if (sans.includes(`URI:${expected}`)) return undefined;
  const error = new Error(`peer certificate is ${cert.subjectaltname || 'without a SPIFFE ID'}, expected ${expected}`) as NodeJS.ErrnoException;
  error.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  return error;
}
