/**
 * What `clients add` checks about scopes before it writes the clients file: every `--scope` is one
 * vkhod releases (a typo would otherwise be refused at every request), every `--machine-scope` is
 * a resource name and not a citizen's scope.
 */
import { SCOPES } from '../../src/oidc/claims.ts';
import { machineScopeProblem, unknownScopes } from '../../src/oidc/scope-names.ts';

export function clientScopeProblem(scope: string | undefined, machineScope: string | undefined): string | undefined {
  const unknown = unknownScopes(scope);
  if (unknown.length) return `--scope: vkhod does not know ${unknown.join(', ')} (known: ${SCOPES.join(' ')})`;
  for (const one of String(machineScope ?? '')
    .split(' ')
    .filter(Boolean)) {
    const problem = machineScopeProblem(one);
    if (problem) return `--machine-scope ${problem}`;
  }
  return undefined;
}
