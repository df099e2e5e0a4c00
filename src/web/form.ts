/**
 * Form bodies (urlencoded or the pages' small JSON posts) are read in one place: a route names
 * the fields it reads with a zod shape and gets typed values. A body that is not an object, or a
 * field its schema refuses, is answered 400 with the generic "could not process" message (the
 * error page, or JSON for a client that asks for JSON — see web/errors.ts).
 *
 * `text(max)` keeps what the routes did before by hand: a string cut to `max` characters, and ''
 * for a field that is absent, repeated (`a[]=…`) or nested (`a[b]=…`) — the page then shows its
 * own "required" message next to the field, which helps more than a bare 400.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { UserError } from './errors.ts';

/** A text field: the string cut to `max` characters; '' when absent or not a single string. */
export const text = (max = Infinity) =>
  z
    .unknown()
    .optional()
    .transform((v): string => (typeof v === 'string' ? v.slice(0, max) : ''));

/** A field passed on as it is (e.g. a WebAuthn response object a method checks itself). */
export const raw = () => z.unknown().optional();

type Shape = Record<string, z.ZodType>;
type Parsed<S> = S extends z.ZodType ? z.output<S> : S extends Shape ? { [K in keyof S]: z.output<S[K]> } : never;

/** Reads `ctx.request.body` with `schema` (a zod schema, or a shape of fields → an object schema). */
export function parseForm<S extends z.ZodType | Shape>(ctx: Context, schema: S): Parsed<S> {
  const body: unknown = ctx.request.body ?? {};
  const zodSchema = schema instanceof z.ZodType ? schema : z.object(schema as Shape);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new UserError(400, 'errors.bad_request');
  const result = zodSchema.safeParse(body);
  if (!result.success) throw new UserError(400, 'errors.bad_request');
  return result.data as Parsed<S>;
}

/** Every field of a flat form as a string ('' for a repeated or nested one), for forms with many fields. */
export const flatForm = z
  .record(z.string(), z.unknown())
  .transform(
    (body) => Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : ''])) as Record<string, string>,
  );
