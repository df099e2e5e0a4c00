/**
 * Which scope names vkhod knows: the citizens' scopes (claims.ts) for authorization requests and
 * client registrations, and resource names for machine (client_credentials) use. Pure checks, used
 * by the provider configuration and by the CLI before it writes the clients file.
 */
import { SCOPES } from './claims.ts';

const END_USER_SCOPES = new Set(SCOPES);

/** Scopes in a space-separated list that vkhod does not release to citizens' relying parties. */
export function unknownScopes(scope: string | undefined): string[] {
  return String(scope ?? '')
    .split(' ')
    .filter((s) => s && !END_USER_SCOPES.has(s));
}

/** A resource scope name: letters, digits and `_ . : / -`, not one of the citizens' scopes. */
export function machineScopeProblem(scope: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_.:/-]{0,99}$/.test(scope)) return `${scope}: a resource scope is letters, digits and _ . : / - (at most 100)`;
  if (END_USER_SCOPES.has(scope)) return `${scope}: a citizen's scope cannot be a machine (client_credentials) scope`;
  return undefined;
}
