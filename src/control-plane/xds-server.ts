import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { parseSpiffeId, spiffeIdOfSan, type IdentityKind } from '../mesh/identity.js';
import { asRecord, HttpError, readJson, sendError, sendJson, stringField } from './http-util.js';

/**
 * The push channel's wire protocol, over TLS (the server's certificate is issued by the mesh CA
 * for `spiffe://<mesh>/control-plane`; proxies trust the CA given to them with `--ca`):
 *
 *   POST /v1/certificate  {csr, kind, name}  → {cert, ca, notAfter}
 *        authenticated by `Authorization: Bearer <join token>` (first certificate) or by the
 *        proxy's current, still valid client certificate (renewal; the identity cannot change).
 *   GET  /v1/stream?id=&version=&host=&port=&applied=   (client certificate required)
 *        a long-lived `application/x-ndjson` response: `{"type":"snapshot","snapshot":…}` lines
 *        and `{"type":"ping"}` every few seconds. A sidecar's stream is its registration: the
 *        instance leaves the registry when the stream closes.
 *   POST /v1/ack        {id, version, ok, error?}  (client certificate required)
 *   POST /v1/heartbeat  {id}                       (client certificate required)
 */
export interface XdsHandlers {
  issue(csr: string, kind: IdentityKind, name: string, renewalOf: string | undefined): Promise<{ cert: string; ca: string; notAfter: number }>;
  stream(peer: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void;
  ack(peer: string, id: string, version: number, ok: boolean, reason: string): void;
  heartbeat(peer: string, id: string): void;
}

export interface XdsServerOptions {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
  readonly joinToken: string;
  readonly meshName: string;
}

export function createXdsServer(options: XdsServerOptions, handlers: XdsHandlers): Server {
  const token = Buffer.from(`Bearer ${options.joinToken}`);
  const server = createServer(
    {
      cert: options.certPem,
      key: options.keyPem,
      ca: options.caPem,
      // A client certificate is asked for but optional here: the join-token request has none.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => sendError(res, error));
    },
  );
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://xds');
    const peer = peerIdentity(req.socket as TLSSocket, options.meshName);
    switch (`${req.method} ${url.pathname}`) {
      case 'POST /v1/certificate': {
        const body = asRecord(await readJson(req));
        const kind = stringField(body, 'kind');
        if (kind !== 'svc' && kind !== 'gateway') throw new HttpError(400, '"kind" must be svc or gateway');
        const name = stringField(body, 'name');
        if (peer === undefined && !bearerMatches(req.headers.authorization, token)) {
          throw new HttpError(401, 'a valid join token or a current mesh certificate is required');
        }
        const issued = await handlers.issue(stringField(body, 'csr'), kind, name, peer);
        return sendJson(res, 200, issued);
      }
      case 'GET /v1/stream':
        return handlers.stream(requirePeer(peer), url.searchParams, req, res);
      case 'POST /v1/ack': {
        const body = asRecord(await readJson(req));
        handlers.ack(requirePeer(peer), stringField(body, 'id'), Number(body['version']), body['ok'] === true, String(body['error'] ?? ''));
        return sendJson(res, 200, { ok: true });
      }
      case 'POST /v1/heartbeat': {
        const body = asRecord(await readJson(req));
        handlers.heartbeat(requirePeer(peer), stringField(body, 'id'));
        return sendJson(res, 200, { ok: true });
      }
      default:
        throw new HttpError(404, `no endpoint ${req.method} ${url.pathname}`);
    }
  }
  return server;
}

/** The SPIFFE ID of a client certificate that chains to the mesh CA and is in this mesh, else undefined. */
function peerIdentity(socket: TLSSocket, meshName: string): string | undefined {
  if (!socket.authorized) return undefined;
  const id = spiffeIdOfSan(socket.getPeerCertificate().subjectaltname);
  const parsed = parseSpiffeId(id);
  return parsed !== undefined && parsed.mesh === meshName && parsed.kind !== 'control-plane' ? id : undefined;
}

function requirePeer(peer: string | undefined): string {
  if (peer === undefined) throw new HttpError(401, 'a mesh client certificate is required');
  return peer;
}

function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
