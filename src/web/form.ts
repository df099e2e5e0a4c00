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

/*
 * Schemas are built once, not per request: building a zod object schema (and the fast path zod
 * compiles for it on first use) cost ~240 µs per form post, parsing with a built one ~2 µs. So
 * `text(max)` and `raw()` hand out one schema per kind, and a shape of them maps to one object
 * schema, kept by its field names and field schemas.
 */
const textSchemas = new Map<number, z.ZodType<string>>();

/** A text field: the string cut to `max` characters; '' when absent or not a single string. */
export function text(max = Infinity): z.ZodType<string> {
  let schema = textSchemas.get(max);
  if (!schema) {
    schema = z
      .unknown()
      .optional()
      .transform((v): string => (typeof v === 'string' ? v.slice(0, max) : ''));
    textSchemas.set(max, schema);
  }
  return schema;
}

/**
 * A checkbox: true when sent as `on`, false when absent. A repeated or nested field (`a[]=on`,
 * `a[b]=on`) is refused (400) rather than read as unchecked: for a checkbox, unchecked is a
 * setting of its own (turning confirmation or alerts off), not a hint to show "required".
 */
const CHECKBOX = z
  .string()
  .optional()
  .transform((v): boolean => v === 'on');
export const checkbox = (): z.ZodType<boolean> => CHECKBOX as unknown as z.ZodType<boolean>;

const RAW = z.unknown().optional();
/** A field passed on as it is (e.g. a WebAuthn response object a method checks itself). */
export const raw = () => RAW;

type Shape = Record<string, z.ZodType>;
type Parsed<S> = S extends z.ZodType ? z.output<S> : S extends Shape ? { [K in keyof S]: z.output<S[K]> } : never;

const fieldIds = new WeakMap<z.ZodType, number>();
let nextFieldId = 0;
const objectSchemas = new Map<string, z.ZodType>();
/** Shapes kept at most (the forms of the code are a few dozen; a caller building new field schemas per call is not kept). */
const MAX_KEPT_SHAPES = 256;

/** The object schema of a shape of fields, built once per distinct shape. */
export function objectSchemaOf(shape: Shape): z.ZodType {
  let key = '';
  for (const name of Object.keys(shape)) {
    const field = shape[name]!;
    let id = fieldIds.get(field);
    if (id === undefined) fieldIds.set(field, (id = nextFieldId++));
    key += `${name}\u0000${id}\u0001`;
  }
  let schema = objectSchemas.get(key);
  if (!schema) {
    schema = z.object(shape);
    if (objectSchemas.size < MAX_KEPT_SHAPES) objectSchemas.set(key, schema);
  }
  return schema;
}

/** Reads `ctx.request.body` with `schema` (a zod schema, or a shape of fields → an object schema). */
export function parseForm<S extends z.ZodType | Shape>(ctx: Context, schema: S): Parsed<S> {
  const body: unknown = ctx.request.body ?? {};
  const zodSchema = schema instanceof z.ZodType ? schema : objectSchemaOf(schema as Shape);
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
