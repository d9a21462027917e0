/**
 * Mesh identities are SPIFFE IDs carried as the URI SAN of a leaf certificate:
 *   spiffe://<mesh>/svc/<service>       a service instance's sidecar
 *   spiffe://<mesh>/gateway/<name>      a gateway that is a mesh member
 *   spiffe://<mesh>/control-plane       the control plane's push-channel server
 */

export type IdentityKind = 'svc' | 'gateway';

export interface Identity {
  readonly mesh: string;
  readonly kind: IdentityKind | 'control-plane';
  /** The service or gateway name; empty for the control plane. */
  readonly name: string;
}

export function spiffeId(mesh: string, kind: IdentityKind, name: string): string {
  return `spiffe://${mesh}/${kind}/${name}`;
}

export function controlPlaneId(mesh: string): string {
  return `spiffe://${mesh}/control-plane`;
}

const SPIFFE = /^spiffe:\/\/([^/]+)\/(?:(svc|gateway)\/([A-Za-z0-9][A-Za-z0-9._-]*)|(control-plane))$/;

export function parseSpiffeId(id: string): Identity | undefined {
  const m = SPIFFE.exec(id);
  if (m === null) return undefined;
  if (m[4] !== undefined) return { mesh: m[1]!, kind: 'control-plane', name: '' };
  return { mesh: m[1]!, kind: m[2] as IdentityKind, name: m[3]! };
}

/**
 * The SPIFFE ID in a peer certificate's `subjectaltname` as Node reports it
 * (`URI:spiffe://shop/svc/orders, DNS:…`), or '' when it has none.
 */
export function spiffeIdOfSan(subjectaltname: string | undefined): string {
  if (subjectaltname === undefined) return '';
  for (const part of subjectaltname.split(', ')) {
    if (part.startsWith('URI:spiffe://')) return part.slice(4);
  }
  return '';
}
