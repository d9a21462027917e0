import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/** A key pair of the kind an identity provider signs with, its public half as a JWK. */
export interface SigningKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** The public key as SPKI PEM (for `keys: [{ file }]` and key-confusion attacks). */
  readonly publicPem: string;
}

export async function signingKey(alg: string, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Claims valid for the next `ttlS` seconds, on top of `claims`. */
export function claimsFor(claims: JWTPayload, ttlS = 300): JWTPayload {
  return { iat: nowSeconds(), exp: nowSeconds() + ttlS, ...claims };
}

/** A token signed by `key` (asymmetric) or with `secret` (HS*). */
export async function sign(claims: JWTPayload, key: SigningKey | { alg: string; secret: Uint8Array; kid?: string }): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid });
  return 'secret' in key ? jwt.sign(key.secret) : jwt.sign(key.privateKey);
}

/** An unsigned token (`alg: none`), which no verifier may accept. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (value: object): string => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/**
 * A JWKS endpoint in the test process: serves whatever keys are published now, counts fetches,
 * and can be made to fail (500) to play an identity provider outage.
 */
export class JwksServer {
  keys: SigningKey[] = [];
  fetches = 0;
  failing = false;
  maxAgeS = 300;
  private readonly server: Server;

  constructor() {
    this.server = createServer((_req, res) => {
      this.fetches++;
      if (this.failing) {
        res.writeHead(500).end('identity provider down');
        return;
      }
      const body = JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) });
      res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': `max-age=${this.maxAgeS}` }).end(body);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
