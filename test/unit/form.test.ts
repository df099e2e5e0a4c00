import { expect } from 'chai';
import type { Context } from 'koa';
import { z } from 'zod';
import { UserError } from '../../src/web/errors.ts';
import { flatForm, parseForm, raw, text } from '../../src/web/form.ts';

const ctxWith = (body: unknown) => ({ request: { body } }) as unknown as Context;
const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(UserError);
    expect((err as UserError).status).to.equal(400);
    expect((err as UserError).messageKey).to.equal('errors.bad_request');
    return;
  }
  expect.fail('parseForm accepted the body');
};

describe('parseForm', () => {
  it('reads the named fields as typed values and leaves the others out', () => {
    const form = parseForm(ctxWith({ code: '123456789', _csrf: 't', extra: 'x' }), { code: text(6), name: text() });
    expect(form).to.deep.equal({ code: '123456', name: '' });
  });

  it('reads a repeated or nested field as empty text, as the routes did by hand', () => {
    expect(parseForm(ctxWith({ identifier: ['a', 'b'], password: { x: 'b' } }), { identifier: text(), password: text() })).to.deep.equal({
      identifier: '',
      password: '',
    });
    expect(parseForm(ctxWith({ family: 'Иванов', given: ['a'] }), flatForm)).to.deep.equal({ family: 'Иванов', given: '' });
  });

  it('passes a raw field on as it is', () => {
    const response = { id: 'abc', response: { clientDataJSON: 'x' } };
    expect(parseForm(ctxWith({ handle: 'h', response }), { handle: text(), response: raw() }).response).to.deep.equal(response);
  });

  it('reads no body as an empty form', () => {
    expect(parseForm(ctxWith(undefined), { code: text() })).to.deep.equal({ code: '' });
  });

  it('answers 400 with the generic message for a body that is not an object', () => {
    for (const body of [[1, 2], 'code=1', 42, null]) refused(() => parseForm(ctxWith(body ?? 'null'), { code: text() }));
    refused(() => parseForm(ctxWith([{ code: '1' }]), flatForm));
  });

  it('answers 400 when a field fails its schema', () => {
    refused(() => parseForm(ctxWith({ decision: 'maybe' }), { decision: z.enum(['allow', 'deny']) }));
    expect(parseForm(ctxWith({ decision: 'allow' }), z.object({ decision: z.enum(['allow', 'deny']) }))).to.deep.equal({
      decision: 'allow',
    });
  });
});

describe('form schemas are built once, not per request', () => {
  it('gives one object schema for the same fields, another for other fields or other limits', async () => {
    const { objectSchemaOf } = await import('../../src/web/form.ts');
    const login = objectSchemaOf({ identifier: text(), password: text(), foreign: text() });
    expect(objectSchemaOf({ identifier: text(), password: text(), foreign: text() })).to.equal(login);
    expect(text(32)).to.equal(text(32));
    expect(raw()).to.equal(raw());
    expect(objectSchemaOf({ identifier: text(), password: text(256), foreign: text() })).to.not.equal(login);
    expect(objectSchemaOf({ identifier: text(), password: text() })).to.not.equal(login);
    // a limit is a limit of its own schema: text(6) cuts, text() does not
    expect(parseForm(ctxWith({ code: '123456789' }), { code: text(6) })).to.deep.equal({ code: '123456' });
    expect(parseForm(ctxWith({ code: '123456789' }), { code: text() })).to.deep.equal({ code: '123456789' });
  });

  it('does not keep shapes of field schemas made afresh for each call (bounded)', async () => {
    const { objectSchemaOf } = await import('../../src/web/form.ts');
    for (let i = 0; i < 400; i++) expect(parseForm(ctxWith({ n: 'x' }), { n: z.string() })).to.deep.equal({ n: 'x' });
    // still correct for the kept ones
    expect(objectSchemaOf({ code: text(6) })).to.equal(objectSchemaOf({ code: text(6) }));
  });
});
