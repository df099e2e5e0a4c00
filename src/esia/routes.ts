/**
 * The ESIA profile's endpoints (docs/esia-migration.md): authorization, token, the person REST
 * API, logout and the published GOST token-signing certificate. Machine endpoints answer JSON;
 * the browser endpoints draw vkhod's pages for what cannot be redirected.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Services } from '../services.ts';
import { esiaAuthorizationRoutes } from './authorize.ts';
import type { EsiaTokenVerifier, GostTokenKey } from './gost-signer.ts';
import { esiaLogoutRoutes } from './logout.ts';
import { esiaPersonRoutes, rsaVerifyKeys } from './person.ts';
import { esiaTokenRoutes } from './token.ts';
import { EsiaTokens, rsaSigner, type EsiaJwtSigner } from './tokens.ts';

/** Where the GOST token-signing certificate is published (gost-signer.ts), as ESIA publishes its own. */
export const GOST_CERTIFICATE_PATH = '/aas/oauth2/certificates/gost2012_256.pem';

interface Keys {
  tokens: EsiaTokens;
  verifier: EsiaTokenVerifier;
  gost: GostTokenKey;
}

export function esiaRoutes(services: Services): Router {
  const router = new Router();
  // Built on first use (the GOST key is created then, once per store). gost-signer.ts is imported
  // then too: it loads pkijs/asn1js, which a deployment without ESIA clients never needs.
  let keys: Promise<Keys> | undefined;
  const keysOnce = () =>
    (keys ??= (async () => {
      const { esiaTokenVerifier, GOST_ALG, gostTokenKey } = await import('./gost-signer.ts');
      const gost = await gostTokenKey(services.store.settings, services.box, services.config.issuer);
      const signers = new Map<string, EsiaJwtSigner>([
        ['RS256', await rsaSigner(services.jwks)],
        [GOST_ALG, gost.signer],
      ]);
      return {
        gost,
        tokens: new EsiaTokens(services.config.issuer, signers, services.config.ttl),
        verifier: esiaTokenVerifier(await rsaVerifyKeys(services.jwks), gost),
      };
    })().catch((err) => {
      keys = undefined;
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
  router.use(esiaTokenRoutes(services, async () => (await keysOnce()).tokens).routes());
  router.use(esiaPersonRoutes(services, async () => (await keysOnce()).verifier).routes());
  router.use(esiaLogoutRoutes(services).routes());
  router.get(GOST_CERTIFICATE_PATH, async (ctx) => {
    ctx.type = 'application/x-pem-file';
    ctx.set('cache-control', 'public, max-age=3600');
    ctx.body = (await keysOnce()).gost.certificatePem;
  });
  return router;
}
