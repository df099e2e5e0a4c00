/**
 * Benchmark baseline: node-oidc-provider 9 on its own — default configuration and default
 * in-memory adapter — with the same client, client credentials enabled, refresh tokens always
 * rotated (as vkhod does) and a trivial account. Started by run.ts with an IPC channel.
 *
 * For the sign-in floor it has the least a password sign-in needs: a login page with a form, and
 * its POST checking the password with vkhod's own argon2id and finishing the interaction with a
 * login and a grant of the asked scopes (no limits, audit, devices, CSRF or consent page). The
 * same five requests as vkhod's flow: /auth, the page, the POST, the resumed /auth, /token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { hashPassword, verifyPassword } from '../../src/accounts/password-hash.ts';
import { BENCH_CLIENT, BENCH_PASSWORD, mintAccessTokens, mintRefreshTokens, serveCommands } from './shared.ts';

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
  features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
  rotateRefreshToken: true,
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
});
const passwordHash = await hashPassword(BENCH_PASSWORD);
const callback = provider.callback();

async function signIn(req: IncomingMessage, res: ServerResponse, uid: string, post: boolean): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (!post) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(
      `<!doctype html><form method="post" action="/interaction/${uid}/login"><input type="hidden" name="_csrf" value="-">` +
        '<input name="identifier"><input name="password" type="password"><button>Sign in</button></form>',
    );
    return;
  }
  let body = '';
  for await (const chunk of req) body += chunk;
  const form = new URLSearchParams(body);
  const accountId = form.get('identifier') ?? '';
  if (!accountId || !(await verifyPassword(passwordHash, form.get('password') ?? ''))) {
    res.writeHead(403).end('wrong login or password');
    return;
  }
  const grant =
    (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

server.on('request', (req, res) => {
  const page = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url?.split('?')[0] ?? '');
  if (!page) return callback(req, res);
  signIn(req, res, page[1]!, Boolean(page[2]) && req.method === 'POST').catch((err: Error) => {
    if (!res.headersSent) res.writeHead(400);
    res.end(err.message);
  });
});

serveCommands(
  url,
  (n) => mintRefreshTokens(provider, ACCOUNT_ID, n),
  undefined,
  (n) => mintAccessTokens(provider, ACCOUNT_ID, n),
);
