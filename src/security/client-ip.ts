/**
 * The client IP for the whole app (limits, audit): the right-most address in the chain
 * "X-Forwarded-For entries, then the peer of the socket" that was not added by a trusted proxy
 * (DESIGN §6). A client can write anything to the left of that chain; it is never read.
 *
 * Trust is a number of proxy hops in front of vkhod (the peer and the n-1 entries before it
 * are proxies) or a list of proxy addresses/networks (every address in the list is skipped,
 * from the right, until one is not).
 */
import { BlockList, isIP } from 'node:net';
import type { Context, Next } from 'koa';
import { parseNetwork, type ProxyTrust } from '../../config/proxy-trust.ts';

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** Builds the resolver: (socket peer, X-Forwarded-For header) → client IP. */
export function clientIpResolver(trust: ProxyTrust | null): (peer: string, forwardedFor: string | undefined) => string {
  if (!trust) return (peer) => peer;
  const entries = (header: string | undefined) =>
    (header ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if ('hops' in trust) {
    return (peer, forwardedFor) => {
      if (!forwardedFor) return peer.slice(0, 64);
      // [...forwarded, peer]: the last `hops` addresses are the proxies; the one before them is the client.
      const chain = [...entries(forwardedFor), peer];
      return chain[Math.max(0, chain.length - 1 - trust.hops)]!.slice(0, 64);
    };
  }
  const trusted = trustedProxyPeer(trust);
  return (peer, forwardedFor) => {
    // No forwarded chain: the peer is the client (the loop below would stop at it at once).
    if (!forwardedFor) return peer.slice(0, 64);
    const chain = [...entries(forwardedFor), peer];
    let i = chain.length - 1;
    while (i > 0 && trusted(chain[i]!)) i -= 1;
    return chain[i]!.slice(0, 64);
  };
}

/** Koa middleware: sets `ctx.ip` (and `ctx.request.ip`) once, for everything after it. */
export function clientIp(trust: ProxyTrust | null) {
  const resolve = clientIpResolver(trust);
  const fromTrustedProxy = trustedProxyPeer(trust);
  // A connection's peer never changes: ask the list once per connection, not once per request of
  // a kept-alive one (BlockList.check builds a SocketAddress each time).
  const peerTrusted = new WeakMap<object, boolean>();
  return (ctx: Context, next: Next) => {
    const socket = ctx.req.socket;
    const peer = socket.remoteAddress ?? '';
    ctx.request.ip = resolve(peer, ctx.get('x-forwarded-for') || undefined);
    // koa believes X-Forwarded-Proto and -Host from every peer once any proxy is trusted: with a
    // list of proxies, a client that reaches vkhod directly must not make its request "https"
    // (the production pages' HTTPS-only check) or name its own host.
    if (trust) {
      let trusted = peerTrusted.get(socket);
      if (trusted === undefined) peerTrusted.set(socket, (trusted = fromTrustedProxy(peer)));
      if (!trusted) {
        delete ctx.req.headers['x-forwarded-proto'];
        delete ctx.req.headers['x-forwarded-host'];
      }
    }
    return next();
  };
}

/**
 * Issue 14: whether the socket's peer is a proxy we trust (it may then pass on headers such as
 * `X-Request-Id`). With a hop count every peer is the nearest proxy; with a list, only listed ones
 * (the same test clientIpResolver applies to each address of a forwarded chain).
 */
export function trustedProxyPeer(trust: ProxyTrust | null): (peer: string) => boolean {
  if (!trust) return () => false;
  if ('hops' in trust) return () => trust.hops > 0;
  const list = new BlockList();
  for (const n of trust.networks) {
    const net = parseNetwork(n)!;
    list.addSubnet(plain(net.address), net.prefix, isIP(plain(net.address)) === 4 ? 'ipv4' : 'ipv6');
  }
  return (peer) => {
    const a = plain(peer);
    const kind = isIP(a);
    return kind !== 0 && list.check(a, kind === 4 ? 'ipv4' : 'ipv6');
  };
}
