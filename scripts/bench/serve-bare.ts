/**
 * Benchmark baseline: node-oidc-provider 9 on its own — default configuration and default
 * in-memory adapter — with the same client, client credentials enabled, refresh tokens always
 * rotated (as vkhod does) and a trivial account. Started by run.ts with an IPC channel.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { BENCH_CLIENT, mintAccessTokens, mintRefreshTokens, serveCommands } from './shared.ts';

const ACCOUNT_ID = 'bench-account';

const server = createServer({ keepAliveTimeout: 65_000 });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const provider = new Provider(url, {
  clients: [
    {
      ...BENCH_CLIENT,
      grant_types: [...BENCH_CLIENT.grant_types],
      redirect_uris: [...BENCH_CLIENT.redirect_uris],
      response_types: [...BENCH_CLIENT.response_types],
    },
  ],
  features: { clientCredentials: { enabled: true } },
  rotateRefreshToken: true,
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
});
server.on('request', provider.callback());

serveCommands(
  url,
  (n) => mintRefreshTokens(provider, ACCOUNT_ID, n),
  undefined,
  (n) => mintAccessTokens(provider, ACCOUNT_ID, n),
);
