/** Structured logs (pino). Secrets never reach them: these paths are redacted wherever they appear. */
import pino, { stdSerializers, type DestinationStream, type Logger } from 'pino';
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

/**
 * An error as pino writes it, less the raw bytes some errors carry: Node's HTTP parser puts what it
 * read into `rawPacket` (a request's Authorization header and cookies with it), and a library may
 * keep a body or a key as a Buffer. Bytes are never what an operator needs from a log line.
 */
export function errWithoutBytes(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = stdSerializers.err(err) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(out)) {
    if (key === 'rawPacket' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) out[key] = '[bytes omitted]';
  }
  return out;
}

/** Every line written while a request is served carries its id (`reqId`, src/web/request-context.ts). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: errWithoutBytes },
      base: { service: 'vkhod' },
      mixin: () => {
        const reqId = currentRequestId();
        return reqId ? { reqId } : {};
      },
    },
    destination,
  );
}
