/**
 * `VKHOD_TRUST_PROXY`: which reverse proxies in front of vkhod are trusted to say who the client
 * is (src/security/client-ip.ts applies it). `false`, `true` (= one hop), a hop count, or a
 * comma-separated list of proxy addresses / CIDR networks.
 */
import { isIP } from 'node:net';

export type ProxyTrust = { hops: number } | { networks: string[] };

/** Parses `VKHOD_TRUST_PROXY`: false/true (= 1 hop), a hop count, or addresses/CIDRs. */
export function parseProxyTrust(value: string): ProxyTrust | null | { problem: string } {
  const v = value.trim().toLowerCase();
  if (['false', 'no', 'off', '0', ''].includes(v)) return null;
  if (['true', 'yes', 'on'].includes(v)) return { hops: 1 };
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    return hops <= 100 ? { hops } : { problem: 'at most 100 hops' };
  }
  const networks = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of networks)
    if (!parseNetwork(n))
      return { problem: `"${n}" is not an IP address or CIDR network (false, true, a hop count, or a list like 10.0.0.1,172.16.0.0/12)` };
  return { networks };
}

export function parseNetwork(text: string): { address: string; prefix: number; type: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = text.split('/');
  const kind = isIP(address);
  if (!kind || rest.length) return undefined;
  const max = kind === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, type: kind === 4 ? 'ipv4' : 'ipv6' };
}
