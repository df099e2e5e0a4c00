/** Structured logs (pino). Secrets never reach them: these paths are redacted wherever they appear. */
import pino, { type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from './web/request-context.ts';

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

/** Every line written while a request is served carries its id (`reqId`, src/web/request-context.ts). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'vkhod' },
      mixin: () => {
        const reqId = currentRequestId();
        return reqId ? { reqId } : {};
      },
    },
    destination,
  );
}
