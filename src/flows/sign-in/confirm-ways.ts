/**
 * The four ways to reach `confirmed` (DESIGN §2), for a page that cannot go on without it: the
 * ones a citizen can take right now in this flow as buttons (a bank that knows them, a qualified
 * e-signature — each signs in again and confirms the data it carries), the others as links to
 * where they are explained and started (a service centre visit, a letter with a code).
 */
import type { Context } from 'koa';
import type { Services } from '../../services.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'bank' | 'esignature' | 'views'>;

export interface ConfirmWays {
  banks: Array<{ id: string; label: string }>;
  esign: boolean;
  /** where the service-centre visit and the letter are explained and requested */
  cabinet: string;
}

export function confirmWays(services: Deps, ctx: Context): ConfirmWays {
  // (as federated-sign-in.ts's signInAlternatives; not imported: that module imports sign-in-result.ts, which uses this)
  const en = services.views.locale(ctx) === 'en';
  const banks = services.bank.list().map((b) => ({ id: b.id, label: en && b.name_en ? b.name_en : b.name }));
  return { banks, esign: services.esignature.enabled, cabinet: '/account/identity#confirm-heading' };
}
