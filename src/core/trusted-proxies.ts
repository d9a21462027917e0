import { BlockList, isIP, isIPv6 } from 'node:net';

/** Addresses remembered before the cache starts over (a bound, not a working-set guess). */
const CACHE_LIMIT = 4096;

/**
 * `trustedProxies` (CIDRs or bare addresses): whose X-Forwarded-* a proxy believes. Asked once or
 * more per request with the same few peer addresses, so answers are cached — BlockList builds a
 * SocketAddress object per check, which showed up at several per cent of a sidecar's CPU.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;
  private readonly cache = new Map<string, boolean>();

  constructor(cidrs: readonly string[]) {
    this.empty = cidrs.length === 0;
    for (const cidr of cidrs) {
      const [address, bits] = cidr.split('/') as [string, string | undefined];
      const family = isIPv6(address) ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(address, family);
      else this.list.addSubnet(address, Number(bits), family);
    }
  }

  /** Whether `address` (anything a header may hold: garbage is simply not trusted) is trusted. */
  trusts(address: string): boolean {
    if (this.empty) return false;
    let trusted = this.cache.get(address);
    if (trusted === undefined) {
      const family = isIP(address);
      trusted = family !== 0 && this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(address, trusted);
    }
    return trusted;
  }
}
