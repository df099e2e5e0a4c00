/**
 * Relying-party (client) registrations as data. This schema catches the common mistakes at
 * start with a clear message; node-oidc-provider validates the full metadata again when the
 * client is first used.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ });

/** Hosts that are this machine: a native app's or a developer's own redirect (RFC 8252 §7.3). */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * A URL vkhod sends a browser (a code, a sign-out) or itself (keys) to: https, or http on the
 * loopback only (RFC 9700 §4.1, RFC 6749 §3.1.2.1: a code must not cross the network in clear; a
 * key must not be fetched in clear); no user name or password before the host (it makes one host
 * look like another); no `*` in the host (redirect URIs match exactly: a wildcard never matches).
 */
const uri = url.superRefine((value, ctx) => {
  // zod runs this also when the URL check above failed: that one has said what is wrong.
  if (!URL.canParse(value)) return;
  const parsed = new URL(value);
  if (parsed.username || parsed.password) ctx.addIssue({ code: 'custom', message: `${value}: no user name or password before the host` });
  if (parsed.hostname.includes('*')) ctx.addIssue({ code: 'custom', message: `${value}: no * in the host (URIs are matched exactly)` });
  if (parsed.protocol === 'http:' && !LOOPBACK.test(parsed.hostname))
    ctx.addIssue({ code: 'custom', message: `${value}: https, or http only on the loopback (localhost, 127.0.0.1, [::1])` });
});

/** Letters a client's name shows the citizen may not carry controls or direction overrides (they can disguise the name). */
const DISPLAYED = /^[^\p{Cc}\p{Cf}]*$/u;

/** Base64url members of a JWK (RFC 7518 §6): what they hold must be base64url, not just present. */
const JWK_NUMBERS = ['n', 'e', 'x', 'y'] as const;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A public key a client could sign with: well-formed numbers, one Node can load, RSA of 2048 bits
 * or more (RFC 7518 §3.3). node-oidc-provider checks that a key's members are there, not what they
 * hold: an RSA key with `"n": "!!"` (Node loads it as a 0-bit key) failed only at the client's
 * first sign-in.
 */
function usablePublicKey(jwk: Record<string, unknown>): boolean {
  if (JWK_NUMBERS.some((name) => name in jwk && (typeof jwk[name] !== 'string' || !BASE64URL.test(jwk[name] as string)))) return false;
  try {
    const loaded = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    return loaded.asymmetricKeyType !== 'rsa' || (loaded.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  } catch {
    return false;
  }
}

/* ESIA profile (src/esia, docs/esia-migration.md): a relying party written against ESIA. */
export const ESIA_TOKEN_ALGS = ['RS256', 'GOST3410_2012_256'] as const;
export const esiaClientSchema = z
  .object({
    /** The certificate (PEM; GOST R 34.10-2012 or RSA) whose key signs the client's requests (`client_secret`). */
    certificate: z.string().includes('-----BEGIN CERTIFICATE-----', { message: 'esia.certificate: a PEM certificate' }),
    /** Where codes (and errors) go: ESIA's redirect_uri, matched exactly. */
    redirect_uris: z.array(uri).min(1, 'esia.redirect_uris: at least one'),
    /** Where the logout may send the browser back (`redirect_url`); redirect_uris are allowed too. */
    logout_redirect_uris: z.array(uri).optional(),
    /** Space-separated ESIA scopes the client may ask for (openid fullname birthdate gender snils inn id_doc …). */
    scope: z.string().min(1),
    /** How its tokens are signed: RS256 (default) or GOST R 34.10-2012 (256 bit) as ESIA does. */
    token_signing_alg: z.enum(ESIA_TOKEN_ALGS).default('RS256'),
  })
  .strict();
export type EsiaClientSettings = z.infer<typeof esiaClientSchema>;

export const clientSchema = z
  .object({
    client_id: z.string().regex(/^[A-Za-z0-9._-]{3,64}$/, 'client_id: 3–64 letters, digits, dot, dash or underscore'),
    client_name: z.string().max(200).regex(DISPLAYED, 'client_name: no control or text-direction characters').optional(),
    client_secret: z.string().min(32, 'client_secret: at least 32 characters').optional(),
    redirect_uris: z.array(uri).default([]),
    post_logout_redirect_uris: z.array(uri).optional(),
    grant_types: z
      .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code']))
      .default(['authorization_code']),
    response_types: z.array(z.literal('code')).optional(),
    token_endpoint_auth_method: z
      .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
      .default('client_secret_basic'),
    /** Space-separated scopes this client may ask for (default: openid offline_access profile email phone). */
    scope: z.string().optional(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
    jwks_uri: uri.optional(),
    /** A resource server may introspect tokens issued to other clients. */
    vkhod_resource_server: z.boolean().optional(),
    /** Release ESIA's `urn:esia:sbj` subject claim (for relying parties written against ESIA). */
    vkhod_esia_compat: z.boolean().optional(),
    /** A legacy confidential relying party that cannot send PKCE (it is required for every client otherwise). */
    vkhod_pkce_optional: z.boolean().optional(),
    /** Space-separated resource scopes its client_credentials tokens may carry (machine use). */
    vkhod_machine_scope: z.string().max(2000).optional(),
    /** ESIA profile: this client talks ESIA's dialect at /aas/oauth2/… (src/esia); the block holds all of it. */
    esia: esiaClientSchema.optional(),
  })
  .loose()
  .superRefine((c, ctx) => {
    const needsSecret = c.token_endpoint_auth_method === 'client_secret_basic' || c.token_endpoint_auth_method === 'client_secret_post';
    if (needsSecret && !c.client_secret && !c.esia)
      ctx.addIssue({ code: 'custom', message: `client ${c.client_id}: client_secret required for ${c.token_endpoint_auth_method}` });
    if (c.token_endpoint_auth_method === 'private_key_jwt' && !c.jwks && !c.jwks_uri) {
      ctx.addIssue({ code: 'custom', message: `client ${c.client_id}: jwks or jwks_uri required for private_key_jwt` });
    }
    for (const [i, key] of (c.jwks?.keys ?? []).entries()) {
      if (usablePublicKey(key)) continue;
      const kid = typeof key.kid === 'string' ? ` (kid ${key.kid.slice(0, 64)})` : '';
      ctx.addIssue({ code: 'custom', message: `client ${c.client_id}: jwks key ${i + 1}${kid} is not a usable public key` });
    }
    if (c.vkhod_pkce_optional && c.token_endpoint_auth_method === 'none') {
      ctx.addIssue({
        code: 'custom',
        message: `client ${c.client_id}: a public client (auth none) must use PKCE; vkhod_pkce_optional is for confidential clients`,
      });
    }
    if (c.vkhod_machine_scope && !c.grant_types.includes('client_credentials')) {
      ctx.addIssue({ code: 'custom', message: `client ${c.client_id}: vkhod_machine_scope needs the client_credentials grant` });
    }
    if (c.grant_types.includes('authorization_code') && c.redirect_uris.length === 0 && !c.esia) {
      ctx.addIssue({ code: 'custom', message: `client ${c.client_id}: redirect_uris required for authorization_code` });
    }
  });

export const clientListSchema = z.array(clientSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  for (const c of list) {
    if (seen.has(c.client_id)) ctx.addIssue({ code: 'custom', message: `client ${c.client_id}: declared twice` });
    seen.add(c.client_id);
  }
});

export type ClientMetadata = z.infer<typeof clientSchema>;
