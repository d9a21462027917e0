/**
 * A throwaway mesh PKI for the nginx sidecar pair: one CA and two ECDSA P-256 leaves with SPIFFE
 * URI SANs, the key type and identities Sekisho's control plane issues, so both pairs pay for the
 * same handshake and signature work. Made with the `openssl` command (@peculiar/x509 cannot be
 * loaded without a reflect-metadata polyfill, which the package does not ship).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { commandExists } from './process.js';

const run = promisify(execFile);

export const OPENSSL = commandExists('openssl') ? 'openssl' : undefined;

/** Certificates of one side of an mTLS hop (PEM files). */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** The DNS name the outbound half checks on the inbound half's certificate. */
export const INBOUND_SERVER_NAME = 'app.bench.mesh';

const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Writes `ca.pem` and, per side, `<side>.pem` / `<side>-key.pem` into `dir`. The inbound leaf
 * also names {@link INBOUND_SERVER_NAME}, which nginx's `proxy_ssl_verify` needs (it checks DNS
 * names, not SPIFFE IDs).
 */
export async function writeMeshPki(dir: string, mesh: string): Promise<{ outbound: TlsFiles; inbound: TlsFiles }> {
  if (!OPENSSL) throw new Error('openssl is not installed (Debian: openssl); it makes the nginx pair’s certificates');
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  await run(OPENSSL, ['req', '-x509', ...P256, '-keyout', caKey, '-out', ca, '-days', '2', '-subj', `/CN=bench mesh CA ${mesh}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);

  const leaf = async (side: 'outbound' | 'inbound', service: string): Promise<TlsFiles> => {
    const key = join(dir, `${side}-key.pem`);
    const csr = join(dir, `${side}.csr`);
    const cert = join(dir, `${side}.pem`);
    const extensions = join(dir, `${side}.ext`);
    const names = [`URI:spiffe://${mesh}/svc/${service}`, ...(side === 'inbound' ? [`DNS:${INBOUND_SERVER_NAME}`] : [])];
    writeFileSync(
      extensions,
      `basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=${names.join(',')}
`,
    );
    await run(OPENSSL, ['req', ...P256, '-keyout', key, '-out', csr, '-subj', `/CN=${service}`]);
    await run(OPENSSL, ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-CAserial', join(dir, 'ca.srl'),
      '-out', cert, '-days', '2', '-sha256', '-extfile', extensions]);
    return { ca, cert, key };
  };
  return { outbound: await leaf('outbound', 'client'), inbound: await leaf('inbound', 'app') };
}
