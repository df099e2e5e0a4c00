/**
 * The ESIA profile's endpoints (docs/esia-migration.md): authorization, token, the person REST
 * API, logout and the published token-signing certificate. Machine endpoints answer JSON; the
 * browser endpoints draw vkhod's pages for what cannot be redirected.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Services } from '../services.ts';
import { esiaAuthorizationRoutes } from './authorize.ts';
import { esiaTokenRoutes } from './token.ts';
import { EsiaTokens, rsaSigner, type EsiaJwtSigner } from './tokens.ts';

export function esiaRoutes(services: Services): Router {
  const router = new Router();
  let tokens: Promise<EsiaTokens> | undefined;
  const tokensOnce = () =>
    (tokens ??= (async () => {
      const signers = new Map<string, EsiaJwtSigner>([['RS256', await rsaSigner(services.jwks)]]);
      return new EsiaTokens(services.config.issuer, signers, services.config.ttl);
    })().catch((err) => {
      tokens = undefined;
      throw err;
    }));
  router.use(
    ['/aas/oauth2/te', '/aas/oauth2/v3/te'],
    bodyParser({
      enableTypes: ['form'],
      formLimit: '64kb',
      encoding: 'utf-8',
      onError: (err) => {
        throw Object.assign(err, { status: (err as { status?: number }).status ?? 400 });
      },
    }),
  );
  router.use(esiaAuthorizationRoutes(services).routes());
  router.use(esiaTokenRoutes(services, tokensOnce).routes());
  return router;
}
