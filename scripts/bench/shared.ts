/**
 * What both benchmark servers and the load generator agree on: the one confidential client,
 * the messages between the runner and a server child, and refresh-token minting.
 */
import type Provider from 'oidc-provider';

export const BENCH_CLIENT = {
  client_id: 'bench-rp',
  client_secret: 'bench-client-secret-0123456789-abcdefghijklmnop',
  redirect_uris: ['https://rp.bench.test/cb'],
  grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
} as const;

export const BASIC_AUTH = `Basic ${Buffer.from(
  `${encodeURIComponent(BENCH_CLIENT.client_id)}:${encodeURIComponent(BENCH_CLIENT.client_secret)}`,
).toString('base64')}`;

/** The password of every benched citizen (and of bare's one login page). */
export const BENCH_PASSWORD = 'bench-password-Aa1!';

export const REFRESH_SCOPE = 'openid offline_access';

/** Runner → child. */
export type Command = { id: number; cmd: 'mint'; n: number } | { id: number; cmd: 'mint-access'; n: number } | { id: number; cmd: 'stats' };
/** Child → runner. */
export type Reply =
  { type: 'ready'; url: string; tempDir?: string } | { type: 'reply'; id: number; tokens?: string[]; stats?: ProcessStats; error?: string };

export interface ProcessStats {
  memory: NodeJS.MemoryUsage;
  /** process.cpuUsage(): user and system CPU time in µs since the process started. */
  cpu: NodeJS.CpuUsage;
}

/**
 * Mints `n` refresh tokens as the authorization_code grant would persist them, through the
 * provider's own models and so through its configured adapter. One Grant each: the tokens
 * rotated from a token stay on its grant, as in real use, and n chains keep any one grant's
 * membership small (node-oidc-provider's memory adapter scans a grant's members per write).
 */
export async function mintRefreshTokens(provider: Provider, accountId: string, n: number): Promise<string[]> {
  const client = await provider.Client.find(BENCH_CLIENT.client_id);
  if (!client) throw new Error(`client ${BENCH_CLIENT.client_id} not found`);
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addOIDCScope(REFRESH_SCOPE);
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      client,
      accountId,
      grantId,
      scope: REFRESH_SCOPE,
      gty: 'authorization_code',
      authTime: now,
      acr: 'urn:vkhod:loa:simplified',
      amr: ['pwd'],
    } as ConstructorParameters<typeof provider.RefreshToken>[0]);
    tokens.push(await token.save());
  }
  return tokens;
}

/** Mints `n` opaque access tokens for userinfo (scope openid), each on its own grant. */
export async function mintAccessTokens(provider: Provider, accountId: string, n: number): Promise<string[]> {
  const client = await provider.Client.find(BENCH_CLIENT.client_id);
  if (!client) throw new Error(`client ${BENCH_CLIENT.client_id} not found`);
  const tokens: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    const token = new provider.AccessToken({
      client,
      accountId,
      grantId,
      scope: 'openid',
      gty: 'authorization_code',
    } as ConstructorParameters<typeof provider.AccessToken>[0]);
    tokens.push(await token.save());
  }
  return tokens;
}

/**
 * The child side: report the URL (stdout for people, IPC for the runner; with the temp folder
 * to remove should the child be killed), answer `mint` and `stats`, and exit as soon as the
 * runner goes away so no server outlives a run.
 */
export function serveCommands(
  url: string,
  mint: (n: number) => Promise<string[]>,
  tempDir?: string,
  mintAccess?: (n: number) => Promise<string[]>,
): void {
  const send = (reply: Reply) => process.send?.(reply);
  process.on('message', async (message: Command) => {
    try {
      if (message.cmd === 'mint') send({ type: 'reply', id: message.id, tokens: await mint(message.n) });
      else if (message.cmd === 'mint-access') send({ type: 'reply', id: message.id, tokens: await mintAccess!(message.n) });
      else send({ type: 'reply', id: message.id, stats: { memory: process.memoryUsage(), cpu: process.cpuUsage() } });
    } catch (err) {
      send({ type: 'reply', id: message.id, error: (err as Error).stack ?? String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.stdout.write(`${url}\n`);
  send({ type: 'ready', url, tempDir });
}
