/**
 * What the identity form (views/partials/identity-form.hbs) shows: the values (stored, or the
 * ones just typed), a message per field, and for every item whether and how it was verified.
 */
import type { Context } from 'koa';
import { formatDate } from '../accounts/dates.ts';
import type { IdentitySubmission } from '../accounts/identity.ts';
import type { LevelDrop } from '../accounts/levels.ts';
import { formatSnils } from '../accounts/snils.ts';
import { presentItems, verifiedItems } from '../accounts/verification.ts';
import type { Account } from '../accounts/account.ts';
import type { Views } from './views.ts';

function storedValues(account: Account): Record<string, string> {
  const i = account.identity ?? {};
  const p = i.passport;
  return {
    family: account.name.family,
    given: account.name.given,
    middle: account.name.middle ?? '',
    birth_date: i.birthDate ? formatDate(i.birthDate) : '',
    gender: i.gender ?? '',
    birth_place: i.birthPlace ?? '',
    snils: account.snils ? formatSnils(account.snils) : '',
    inn: i.inn ?? '',
    passport_series: p?.series ?? '',
    passport_number: p?.number ?? '',
    passport_issue_date: p ? formatDate(p.issueDate) : '',
    passport_issuer: p?.issuer ?? '',
    passport_department_code: p?.departmentCode ?? '',
    address: i.address?.formatted ?? '',
    postal_code: i.address?.postalCode ?? '',
  };
}

/** The warning shown before a save that lowers the level (what level it drops to and why). */
export function levelDropText(views: Views, ctx: Context, drop: LevelDrop): string {
  return views.t(ctx, 'identity.level_drop.warning', {
    from: views.t(ctx, `levels.${drop.from}`),
    to: views.t(ctx, `levels.${drop.to}`),
    items: drop.items.map((i) => views.t(ctx, `identity.items.${i}`)).join(', '),
  });
}

export function identityFormModel(
  views: Views,
  ctx: Context,
  account: Account,
  submission?: IdentitySubmission,
  extras: { levelDrop?: LevelDrop; askPassword?: boolean } = {},
) {
  const verified = verifiedItems(account);
  const present = new Set(presentItems(account));
  const items = (['name', 'birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'address'] as const).map((item) => {
    const event = verified.get(item);
    return {
      id: item,
      label: views.t(ctx, `identity.items.${item}`),
      status: event
        ? views.t(ctx, 'identity.verified_by', {
            method: views.t(ctx, `identity.methods.${event.method}`),
            date: formatDate(event.time.slice(0, 10)),
          })
        : present.has(item)
          ? views.t(ctx, 'identity.not_verified')
          : views.t(ctx, 'identity.missing'),
      verified: Boolean(event),
    };
  });
  const errors = Object.fromEntries(Object.entries(submission?.errors ?? {}).map(([field, key]) => [field, views.t(ctx, key)]));
  return {
    values: submission?.values ?? storedValues(account),
    errors,
    items,
    hasErrors: Object.keys(errors).length > 0,
    ...(extras.levelDrop ? { levelDrop: levelDropText(views, ctx, extras.levelDrop), levelDropTo: extras.levelDrop.to } : {}),
    askPassword: Boolean(extras.askPassword),
  };
}
