import { randomBytes } from 'node:crypto';
import { x509 } from '../mesh/x509.js';
import { generateKeyPair, importPrivateKey, type CryptoKey, privateKeyPem, SIGNING_ALGORITHM } from '../mesh/pki.js';

/** A signed leaf certificate as the control plane hands it out. */
export interface IssuedCertificate {
  readonly certPem: string;
  /** The CA certificate the proxy must trust for its peers. */
  readonly caPem: string;
  readonly spiffeId: string;
  readonly serial: string;
  readonly notAfter: number;
}

/** The root in PEM: what the store persists and `controlPlane.ca.{cert,key}` may provide. */
export interface CaMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Certificates are valid from a little before their issue, so small clock skew between machines does not matter. */
const BACKDATE_MS = 60_000;
const ROOT_LIFETIME_MS = 10 * 365 * 24 * 3600_000;

/**
 * The mesh's certificate authority: one root (made here, or given as files) that signs
 * short-lived leaf certificates from CSRs. The leaf carries exactly one URI SAN, the SPIFFE ID
 * the control plane decided — whatever names the CSR asks for are ignored.
 */
export class CertificateAuthority {
  private constructor(
    private readonly cert: x509.X509Certificate,
    private readonly signingKey: CryptoKey,
    readonly material: CaMaterial,
  ) {}

  static async load(material: CaMaterial): Promise<CertificateAuthority> {
    const cert = new x509.X509Certificate(material.certPem);
    return new CertificateAuthority(cert, await importPrivateKey(material.keyPem), material);
  }

  static async create(meshName: string): Promise<CertificateAuthority> {
    const keys = await generateKeyPair();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: `CN=Sekisho mesh CA ${meshName}, O=sekisho`,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: new Date(now + ROOT_LIFETIME_MS),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new CertificateAuthority(cert, keys.privateKey, { certPem: cert.toString('pem'), keyPem: privateKeyPem(keys.privateKey) });
  }

  get certPem(): string {
    return this.material.certPem;
  }

  /** SHA-256 fingerprint of the root, for logs and `ctl certs`. */
  async fingerprint(): Promise<string> {
    return Buffer.from(await this.cert.getThumbprint('SHA-256')).toString('hex');
  }

  /**
   * Signs the CSR's public key into a leaf for `spiffeId`, valid for `ttlMs`. Rejects a CSR
   * whose signature does not verify (it must come from the holder of the key).
   */
  async issue(csrPem: string, spiffeId: string, ttlMs: number): Promise<IssuedCertificate> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
    const now = Date.now();
    const serial = randomSerial();
    const notAfter = new Date(now + ttlMs);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: 'O=sekisho',
      issuer: this.cert.subject,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter,
      publicKey: csr.publicKey,
      signingKey: this.signingKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert, false),
      ],
    });
    return { certPem: leaf.toString('pem'), caPem: this.certPem, spiffeId, serial, notAfter: notAfter.getTime() };
  }
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // a positive INTEGER
  return bytes.toString('hex');
}
