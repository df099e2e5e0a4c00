/**
 * multipart/form-data for the few forms that upload a file (an e-signature `.sig`). The app's
 * body parser reads only url-encoded forms and JSON; this runs on those routes alone, in memory,
 * with small limits. A form sent without a file (url-encoded) passes through untouched.
 */
import type { Context, Middleware, Next } from 'koa';
import { UserError } from './errors.ts';

export interface UploadLimits {
  /** the file field's name */
  field: string;
  /** bytes */
  maxFile: number;
  /** bytes, per text field */
  maxField: number;
}

export function fileUpload(limits: UploadLimits) {
  // @koa/multer (multer, busboy and their helpers) is loaded on the first upload, not at start (issue 15).
  let parser: Promise<Middleware> | undefined;
  const singleFile = () =>
    (parser ??= import('@koa/multer').then(({ default: multer }) =>
      multer({
        storage: multer.memoryStorage(),
        limits: { fileSize: limits.maxFile, files: 1, fields: 8, fieldSize: limits.maxField, parts: 10, headerPairs: 50 },
      }).single(limits.field),
    ));
  return async function parseUpload(ctx: Context, next: Next): Promise<void> {
    if (ctx.is('multipart/form-data')) {
      const single = await singleFile();
      try {
        await single(ctx, async () => undefined);
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (code === 'LIMIT_FILE_SIZE' || code === 'LIMIT_FIELD_VALUE') throw new UserError(413, 'errors.too_large');
        throw new UserError(400, 'errors.bad_request');
      }
    }
    await next();
  };
}

/** The uploaded file's bytes, when one came. */
export function uploadedFile(ctx: Context): Uint8Array | undefined {
  const file = (ctx.request as unknown as { file?: { buffer?: Buffer } }).file;
  return file?.buffer?.length ? new Uint8Array(file.buffer) : undefined;
}
