/**
 * The audit trail: append-only events (who, what, when, from where, outcome), kept by the
 * store and mirrored to the structured log. Details never hold secrets or full documents.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditEvent, AuditLog } from '../store.ts';

export type AuditInput = Omit<AuditEvent, 'id' | 'at'> & { at?: string };

export function auditEvent(input: AuditInput): AuditEvent {
  return { id: randomUUID(), at: input.at ?? new Date().toISOString(), ...input };
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

  subscribe(listener: (event: AuditEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Mirrors events written by a store transaction to the log. */
  published(event: AuditEvent): void {
    for (const listener of this.listeners) listener(event);
    this.logger.info(
      { audit: { type: event.type, accountId: event.accountId, outcome: event.outcome, clientId: event.clientId } },
      'audit',
    );
  }
}
