/**
 * Linking banks and certificates to accounts, shared by the sign-in flows and the cabinet: the
 * linking rules (accounts/linked-identities.ts) built for a request, a bank's name in the page's
 * language, the page for a source that could not confirm the account, and telling the citizen
 * about a new link.
 */
import type { Context } from 'koa';
import type { BankConfig } from '../../config/federation.ts';
import { LinkedIdentities } from '../accounts/linked-identities.ts';
import { uncoveredItems } from '../accounts/verification.ts';
import type { Services } from '../services.ts';
import type { Account } from '../accounts/account.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'levels' | 'notices' | 'store' | 'views'>;

export function linkedIdentities(services: Deps): LinkedIdentities {
  return new LinkedIdentities(services.store, services.accounts, services.levels);
}

export function bankLabel(services: Deps, ctx: Context, bank: BankConfig): string {
  return services.views.locale(ctx) === 'en' && bank.name_en ? bank.name_en : bank.name;
}

/**
 * The page a confirming source leads to when it could not lift the account to confirmed: which
 * items it could not confirm (it did not carry them and the registry has not checked them).
 */
export function showUnconfirmed(
  services: Deps,
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
export async function notifyCitizen(services: Deps, account: Account, key: string, params: Record<string, unknown> = {}): Promise<void> {
  await services.notices.linked(account, key, params);
}
