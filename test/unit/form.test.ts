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
