import type { TransportFactory } from '../core/runtime.js';
import { plainHttpTransport } from '../core/runtime.js';
import { MtlsTransport, type CredentialSource } from '../core/upstream/mtls.js';
import { spiffeId } from './identity.js';
import { isMeshService, type Snapshot } from './snapshot.js';

/**
 * Transports of a mesh member (a sidecar's outbound side, a gateway in the mesh) for one
 * snapshot: mTLS to the instances of mesh services (those without static endpoints in the
 * snapshot's config), each verified to be the service meant; plain HTTP(S) to static endpoints.
 */
export function meshTransports(snapshot: Snapshot, credentials: CredentialSource): TransportFactory {
  const config = snapshot.config;
  const meshServices = new Set(Object.values(config.services).filter(isMeshService).map((s) => s.name));
  return (service, endpoint) => {
    if (!meshServices.has(service.name)) return plainHttpTransport(service, endpoint);
    return new MtlsTransport(endpoint.url, {
      connectTimeoutMs: service.connectTimeoutMs,
      expectedIdentity: spiffeId(config.mesh.name, 'svc', service.name),
      credentials,
    });
  };
}
