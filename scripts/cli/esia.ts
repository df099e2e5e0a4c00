/**
 * `vkhod clients add-esia`: registers a relying party for the ESIA profile (src/esia,
 * docs/esia-migration.md) — its mnemonic as client_id, the certificate that signs its requests,
 * its redirect URIs and ESIA scopes — as an `esia` block in the clients file.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { clientListSchema, type ClientMetadata } from '../../config/clients.ts';
import { readEsiaClients } from '../../src/esia/clients.ts';

export const ESIA_USAGE = `  clients add-esia --id MNEMONIC --certificate FILE.pem --redirect-uri URL [--redirect-uri URL ...]
              --scope "openid fullname snils ..." [--logout-uri URL ...] [--name NAME] [--gost-tokens]`;

/** The client definition for the clients file; throws `usage(message)` for a mistake. */
export function esiaClientFromArgs(args: string[], existing: ClientMetadata[], usage: (message: string) => Error): ClientMetadata[] {
  const { values } = parseArgs({
    args,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      certificate: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'logout-uri': { type: 'string', multiple: true },
      scope: { type: 'string' },
      'gost-tokens': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.id) throw usage('--id (the mnemonic) is required');
  if (!values.certificate) throw usage('--certificate (a PEM file) is required');
  if (!values.scope) throw usage('--scope is required');
  if (existing.some((c) => c.client_id === values.id)) throw usage(`client ${values.id} already exists; remove it first`);
  let certificate: string;
  try {
    certificate = readFileSync(values.certificate, 'utf8');
  } catch {
    throw usage(`cannot read ${values.certificate}`);
  }
  const candidate = {
    client_id: values.id,
    ...(values.name ? { client_name: values.name } : {}),
    esia: {
      certificate,
      redirect_uris: values['redirect-uri'] ?? [],
      ...(values['logout-uri'] ? { logout_redirect_uris: values['logout-uri'] } : {}),
      scope: values.scope,
      token_signing_alg: values['gost-tokens'] ? 'GOST3410_2012_256' : 'RS256',
    },
  };
  const parsed = clientListSchema.safeParse([...existing, candidate]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw usage(`${issue.path.slice(1).join('.') || 'client'}: ${issue.message}`);
  }
  try {
    readEsiaClients(parsed.data);
  } catch (err) {
    throw usage((err as Error).message);
  }
  return parsed.data;
}
