import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { JwtConfig } from '../../config/types.js';
import type { KeyRing } from './key-ring.js';

/** Why a token was refused: the `reason` label of `sekisho_auth_rejected_total`. */
export type RejectReason =
  | 'missing' | 'too_large' | 'malformed' | 'algorithm' | 'unknown_key' | 'signature'
  | 'expired' | 'not_yet_valid' | 'issuer' | 'audience' | 'claims' | 'unavailable';

export class Rejection {
  constructor(
    readonly reason: RejectReason,
    /** Safe to show the client (goes in `error_description` and the problem's detail). */
    readonly detail: string,
  ) {}
}

/**
 * Checks one compact JWS token: header decodable, `alg` on the allow-list (never `none`), a
 * signature by a key fitting that alg, then `iss`, `aud`, `exp` (required) and `nbf` within
 * `clockSkew`. Resolves to the claims or a rejection; never rejects.
 */
export class TokenVerifier {
  private readonly algorithms: ReadonlySet<string>;
  private readonly options: Parameters<typeof jwtVerify>[2];

  constructor(
    config: JwtConfig,
    private readonly keys: KeyRing,
  ) {
    this.algorithms = new Set(config.algorithms);
    this.options = {
      issuer: config.issuer,
      audience: config.audience.length > 0 ? [...config.audience] : undefined,
      clockTolerance: config.clockSkewMs / 1000,
      requiredClaims: ['exp'],
    };
  }

  async verify(token: string): Promise<JWTPayload | Rejection> {
    if (!hasThreeSegments(token)) return new Rejection('malformed', 'the token is not a well-formed JWT');
    let alg: string | undefined;
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      alg = header.alg;
      kid = header.kid;
    } catch {
      return new Rejection('malformed', 'the token is not a well-formed JWT');
    }
    if (alg === undefined || alg === 'none') return new Rejection('algorithm', 'unsigned tokens are not accepted');
    if (!this.algorithms.has(alg)) return new Rejection('algorithm', 'the token\'s algorithm is not accepted');

    const { keys, jwksUnavailable } = await this.keys.candidates(alg, kid);
    const options = { ...this.options, algorithms: [alg] };
    for (const key of keys) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (error) {
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        return rejectionOf(error);
      }
    }
    if (jwksUnavailable) return new Rejection('unavailable', 'the signing keys cannot be fetched right now');
    if (keys.length === 0) return new Rejection('unknown_key', 'no known key matches the token');
    return new Rejection('signature', 'signature verification failed');
  }
}

function hasThreeSegments(token: string): boolean {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  return first > 0 && second > first + 1 && token.indexOf('.', second + 1) === -1;
}

function rejectionOf(error: unknown): Rejection {
  if (error instanceof errors.JWTExpired) return new Rejection('expired', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf': return new Rejection('not_yet_valid', 'the token is not valid yet');
      case 'iss': return new Rejection('issuer', 'unexpected token issuer');
      case 'aud': return new Rejection('audience', 'unexpected token audience');
      case 'exp': return new Rejection('claims', 'the token has no valid expiry');
      default: return new Rejection('claims', `invalid "${error.claim}" claim`);
    }
  }
  return new Rejection('malformed', 'the token is not a well-formed JWT');
}
