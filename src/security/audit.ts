/**
 * The audit trail: append-only events (who, what, when, from where, outcome), kept by the
 * store and mirrored to the structured log. Details never hold secrets or full documents.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditEvent, AuditLog } from '../store.ts';

export type AuditInput = Omit<AuditEvent, 'id' | 'at'> & { at?: string };

/**
 * Detail names that could carry a secret (a password, a code, a token, a seed, a key): such a
 * member never reaches the store or the log, whatever a caller passes (issue 14).
 */
const SECRET_NAME = /pass(word|phrase)?$|secret|token|^(code|otp|pin|seed|cookie|authorization|private_?key|d)$|hash$/i;

function withoutSecrets(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(details)) {
    if (SECRET_NAME.test(name)) continue;
    out[name] = value && typeof value === 'object' && !Array.isArray(value) ? withoutSecrets(value as Record<string, unknown>) : value;
  }
  return out;
}

/**
 * A complete event (issue 14): an id, the time, the actor (`self` for the citizen the event is
 * about, `anonymous` when no account is known; operators and the system name themselves), the
 * reason (`details.reason` lifted to the top when not given) and no secrets in the details.
 */
export function auditEvent(input: AuditInput): AuditEvent {
  const { details, ...rest } = input;
  const clean = details ? withoutSecrets(details) : undefined;
  const reason = input.reason ?? (typeof clean?.reason === 'string' ? clean.reason : undefined);
  return {
    id: randomUUID(),
    ...rest,
    at: input.at ?? new Date().toISOString(),
    actor: input.actor ?? (input.accountId ? 'self' : 'anonymous'),
    ...(reason !== undefined ? { reason } : {}),
    ...(clean ? { details: clean } : {}),
  };
}

/**
 * Changes to the deployment an operator makes (clients, signing keys): the event types the client
 * and key management records, one call each (`AuditTrail.settingChanged`, or in the CLI
 * `store.audit.append(settingChangeEvent(…))`). Never the secret itself: a rotated client secret
 * is recorded as rotated, with its overlap, not with its value.
 */
export type SettingChange =
  | 'client.created'
  | 'client.updated'
  | 'client.secret_rotated'
  | 'client.disabled'
  | 'client.enabled'
  | 'client.deleted'
  | 'key.published'
  | 'key.activated'
  | 'key.rotated'
  | 'key.withdrawn';

export interface SettingChangeInput {
  /** who: `operator:<login>`, `cli:<user>` */
  actor: string;
  ip?: string;
  /** the client concerned (client changes) */
  clientId?: string;
  outcome?: 'success' | 'failure';
  reason?: string;
  /** e.g. `{ kid }` for a key, `{ fields: ['redirect_uris'] }` for an update, `{ overlapSeconds }` */
  details?: Record<string, unknown>;
}

export function settingChangeEvent(change: SettingChange, input: SettingChangeInput): AuditEvent {
  return auditEvent({ type: change, outcome: 'success', ...input });
}

export class AuditTrail {
  /** Issue 14: who else hears of every event (the metrics). */
  private readonly listeners: Array<(event: AuditEvent) => void> = [];

  constructor(
    private readonly log: AuditLog,
    private readonly logger: Logger,
  ) {}

  /** Appends the event; an audit failure is logged loudly but never breaks the citizen's flow. */
  async record(input: AuditInput): Promise<AuditEvent> {
    const event = auditEvent(input);
    this.published(event);
    try {
      await this.log.append(event);
    } catch (err) {
      this.logger.error({ err, eventType: event.type }, 'audit append failed');
    }
    return event;
  }

  /** Records a change to clients or keys (see SettingChange). */
  settingChanged(change: SettingChange, input: SettingChangeInput): Promise<AuditEvent> {
    return this.record({ type: change, outcome: 'success', ...input });
  }

  /** Calls `listener` with every event recorded (metrics count sign-ins from them). */
  subscribe(listener: (event: AuditEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Mirrors events written by a store transaction to the log. */
  published(event: AuditEvent): void {
    for (const listener of this.listeners) listener(event);
    this.logger.info(
      {
        audit: {
          id: event.id,
          type: event.type,
          actor: event.actor,
          accountId: event.accountId,
          outcome: event.outcome,
          reason: event.reason,
          clientId: event.clientId,
        },
      },
      'audit',
    );
  }
}
