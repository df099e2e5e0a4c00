/**
 * What bank and e-signature sign-ins share: the end of the sign-in (the same advance as every
 * other first factor), the sign-in options on the login page, and telling the
 * citizen about a new link.
 */
import type { Context } from 'koa';
import type { BankConfig } from '../../config/federation.ts';
import { LinkedIdentities } from '../accounts/linked-identities.ts';
import { confirmedContacts } from '../accounts/contacts.ts';
import type { Services } from '../services.ts';
import { uncoveredItems } from '../accounts/verification.ts';
import type { Account } from '../store.ts';
import type { InteractionDetails } from './interaction-context.ts';
import { advance, type AdvanceOptions } from './sign-in/advance.ts';

export function linkedIdentities(services: Services): LinkedIdentities {
  return new LinkedIdentities(services.store, services.accounts, services.levels);
}

export function bankLabel(services: Services, ctx: Context, bank: BankConfig): string {
  return services.views.locale(ctx) === 'en' && bank.name_en ? bank.name_en : bank.name;
}

/** The other ways in, for the sign-in page: a button per bank, and the e-signature. */
export function signInAlternatives(
  services: Services,
  ctx: Context,
): { banks: Array<{ id: string; label: string }>; esign: boolean } | undefined {
  const banks = services.bank.list().map((b) => ({ id: b.id, label: bankLabel(services, ctx, b) }));
  const esign = services.esignature.enabled;
  return banks.length || esign ? { banks, esign } : undefined;
}

/** Ends a bank or e-signature sign-in like any other: a second factor when one is due, then the login result. */
export async function finishFederatedSignIn(
  services: Services,
  ctx: Context,
  details: InteractionDetails,
  account: Account,
  amr: string[],
  method: string,
  options: AdvanceOptions = {},
): Promise<void> {
  await advance(services, ctx, details, { account, amr, remember: true, method }, options);
}

/**
 * The page a confirming source leads to when it could not lift the account to confirmed: which
 * items it could not confirm (it did not carry them and the registry has not checked them).
 */
export function showUnconfirmed(
  services: Services,
  ctx: Context,
  account: Account,
  source: string,
  back: { href: string; label: string },
): void {
  const { views } = services;
  const list = (items: readonly string[]) => items.map((i) => views.t(ctx, `identity.items.${i}`)).join(', ');
  const latest = account.verifications?.at(-1);
  views.render(ctx, 'unconfirmed', {
    title: 'federation.unconfirmed.heading',
    source,
    missing: list(uncoveredItems(account)),
    covered: latest ? list(latest.items) : undefined,
    back,
  });
}

/** Best effort: a message to the citizen's confirmed contact (a failed notice never undoes anything). */
export async function notifyCitizen(
  services: Services,
  account: Account,
  key: string,
  params: Record<string, unknown> = {},
): Promise<void> {
  const to = confirmedContacts(account)[0];
  if (!to) return;
  const t = (k: string) => services.views.messages.t('ru', k, params);
  await services.notifier.send(to, { subject: t('federation.messages.subject'), text: t(key) }).catch(() => undefined);
}
