/** Structured logs (pino). Secrets never reach them: these paths are redacted wherever they appear. */
import pino, { type Logger } from 'pino';

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'code',
  '*.code',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.client_secret',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: { service: 'vkhod' } });
}
