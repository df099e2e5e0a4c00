/**
 * What bank and e-signature sign-ins share: the end of the sign-in (the same advance as every
 * other first factor) and the sign-in options on the login page. What the cabinet shares with
 * them is in src/federation/.
 */
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import { bankLabel } from '../../federation/linking.ts';
import type { Account } from '../../accounts/account.ts';
import type { InteractionDetails } from '../interaction/context.ts';
import { advance, type AdvanceOptions } from '../sign-in/advance.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'audit' | 'bank' | 'config' | 'esignature' | 'levels' | 'limits' | 'notices' | 'provider' | 'store' | 'views'
>;

/** The other ways in, for the sign-in page: a button per bank, and the e-signature. */
export function signInAlternatives(
  services: Deps,
  ctx: Context,
): { banks: Array<{ id: string; label: string }>; esign: boolean } | undefined {
  const banks = services.bank.list().map((b) => ({ id: b.id, label: bankLabel(services, ctx, b) }));
  const esign = services.esignature.enabled;
  return banks.length || esign ? { banks, esign } : undefined;
}

/** Ends a bank or e-signature sign-in like any other: a second factor when one is due, then the login result. */
export async function finishFederatedSignIn(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  account: Account,
  amr: string[],
  method: string,
  options: AdvanceOptions = {},
): Promise<void> {
  await advance(services, ctx, details, { account, amr, remember: true, method }, options);
}
