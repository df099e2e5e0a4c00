/**
 * The post room through the admin API: queued confirmation letters with the code to print (and
 * that code really confirms the citizen), marking a letter sent (once), who may do it, and that a
 * cross-site form cannot do it with the credentials a browser has cached; a voided request's
 * letter leaves the queue (cancelled) and cannot be marked sent.
 */
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.ts';
import { addOperator, api, auditBy, CITIZEN, levelOf, standardCitizen, type TestOperator } from './admin-fixtures.ts';
import { resetStore } from './fixtures.ts';

describe('admin API: letters with postal confirmation codes', () => {
  let h: Harness;
  let postman: TestOperator;
  let desk: TestOperator;
  let boss: TestOperator;

  before(async () => {
    h = await startHarness();
    postman = await addOperator(h, 'postman', ['post']);
    desk = await addOperator(h, 'desk', ['service_centre']);
    boss = await addOperator(h, 'boss', ['admin']);
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  /** A standard citizen who asked for a code by post; returns the account and its letter id. */
  async function letterRequested(phone = CITIZEN.phone, nine = CITIZEN.nine, series = CITIZEN.series) {
    const citizen = await standardCitizen(h, { phone, nine, series });
    const requested = await h.services.postal.request(citizen);
    return { citizen: requested, letterId: requested.postalConfirmation!.letterId };
  }

  it('lists queued letters oldest first with recipient, address and the code — and the code confirms the citizen', async () => {
    const first = await letterRequested();
    await new Promise((resolve) => setTimeout(resolve, 5)); // distinct created_at: the order is by time
    const second = await letterRequested('+79001234567', '123123123', '4510');
    const res = await api(h, postman).get('/admin/api/letters');
    expect(res.status, res.text).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body.letters.map((l: { id: string }) => l.id)).to.deep.equal([first.letterId, second.letterId]);
    const letter = res.body.letters[0];
    expect(letter).to.deep.include({
      id: first.letterId,
      account_id: first.citizen.id,
      status: 'queued',
      recipient: { name: 'Иванова Мария Петровна', address: CITIZEN.address.formatted, postal_code: CITIZEN.address.postalCode },
    });
    expect(letter.code).to.match(/^\d{6}$/);
    expect(auditBy(h, 'admin.letters_listed', 'operator:postman')[0]!.details).to.deep.equal({ status: 'queued', count: 2 });

    // What is printed is what the citizen types in.
    const outcome = await h.services.postal.verify((await h.services.accounts.findActive(first.citizen.id))!, letter.code, '127.0.0.1');
    expect(outcome).to.equal('ok');
    expect(await levelOf(h, first.citizen.id)).to.equal('confirmed');
  });

  it('marks a letter sent once: the code is gone, the letter moves to the sent list, a second mark is a 409', async () => {
    const { citizen, letterId } = await letterRequested();
    const sent = await api(h, postman).post(`/admin/api/letters/${letterId}/sent`).type('json');
    expect(sent.status, sent.text).to.equal(200);
    expect(sent.body.letter).to.include({ id: letterId, status: 'sent', sent_by: 'operator:postman' });
    expect(sent.body.letter).to.not.have.property('code');
    expect(Date.parse(sent.body.letter.sent_at)).to.be.a('number').and.not.NaN;

    const stored = (await h.services.store.letters.find(letterId))!;
    expect(stored).to.include({ status: 'sent', sentBy: 'operator:postman' });
    expect(stored.sealedCode, 'the sealed code is dropped').to.not.be.ok;

    expect((await api(h, postman).get('/admin/api/letters?status=queued')).body.letters).to.deep.equal([]);
    const sentList = await api(h, postman).get('/admin/api/letters?status=sent');
    expect(sentList.body.letters.map((l: { id: string }) => l.id)).to.deep.equal([letterId]);
    expect(sentList.body.letters[0]).to.not.have.property('code');

    const again = await api(h, postman).post(`/admin/api/letters/${letterId}/sent`).type('json');
    expect(again.status).to.equal(409);
    expect(again.body).to.deep.equal({ error: 'already_sent', error_description: 'Это письмо уже отмечено отправленным.' });

    const events = auditBy(h, 'admin.letter_sent', 'operator:postman');
    expect(events.map((e) => e.outcome)).to.deep.equal(['success', 'failure']);
    expect(events[0]).to.include({ accountId: citizen.id });
  });

  it('a voided request takes its letter off the queue: listed as cancelled without a code, and it cannot be marked sent', async () => {
    const { citizen, letterId } = await letterRequested();
    const code = (await api(h, postman).get('/admin/api/letters')).body.letters[0].code as string;
    const wrong = code === '000000' ? '111111' : '000000';
    // Five wrong codes use the letter up: the request is voided.
    for (let i = 0; i < 5; i += 1) await h.services.postal.verify((await h.services.accounts.findActive(citizen.id))!, wrong, '127.0.0.1');
    expect((await h.services.accounts.findActive(citizen.id))!.postalConfirmation).to.equal(undefined);

    expect((await api(h, postman).get('/admin/api/letters')).body.letters, 'nothing left to print').to.deep.equal([]);
    const cancelled = await api(h, postman).get('/admin/api/letters?status=cancelled');
    expect(cancelled.status, cancelled.text).to.equal(200);
    expect(cancelled.body.letters.map((l: { id: string }) => l.id)).to.deep.equal([letterId]);
    expect(cancelled.body.letters[0]).to.include({ status: 'cancelled', cancel_reason: 'exhausted' });
    expect(Date.parse(cancelled.body.letters[0].cancelled_at)).to.be.a('number').and.not.NaN;
    expect(cancelled.text, 'no code for a cancelled letter').to.not.match(/"code"/);
    expect(auditBy(h, 'admin.letters_listed', 'operator:postman').map((e) => e.details)).to.deep.include({ status: 'cancelled', count: 1 });

    const mark = await api(h, postman).post(`/admin/api/letters/${letterId}/sent`).type('json');
    expect(mark.status).to.equal(409);
    expect(mark.body.error).to.equal('letter_cancelled');
    expect(mark.body.error_description).to.match(/отменено/);
    const stored = (await h.services.store.letters.find(letterId))!;
    expect(stored).to.include({ status: 'cancelled', cancelReason: 'exhausted' }).and.not.have.property('sentBy');
    expect(stored.sealedCode, 'the sealed code is dropped').to.equal(undefined);
    expect((await api(h, postman).get('/admin/api/letters?status=sent')).body.letters).to.deep.equal([]);
    const events = auditBy(h, 'admin.letter_sent', 'operator:postman');
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ outcome: 'failure', accountId: citizen.id });
    expect(events[0]!.details).to.deep.equal({ letterId, reason: 'cancelled' });
  });

  it('answers 404 for an unknown letter and 400 for an unknown status', async () => {
    const missing = await api(h, postman).post('/admin/api/letters/00000000-0000-4000-8000-000000000000/sent').type('json');
    expect(missing.status).to.equal(404);
    expect(missing.body.error).to.equal('letter_not_found');
    for (const status of ['printed', '', 'cancelled', 'queued&status=sent']) {
      const res = await api(h, postman).get(`/admin/api/letters?status=${status}`);
      if (status === '') expect(res.status, 'an empty status means queued').to.equal(200);
      else if (status === 'cancelled') expect(res.status, status).to.equal(200);
      else {
        expect(res.status, status).to.equal(400);
        expect(res.body.error_description).to.include('queued').and.include('sent');
      }
    }
  });

  it('refuses a POST that is not JSON before anything else (a cross-site form with cached Basic credentials): 415, the letter stays queued', async () => {
    const { letterId } = await letterRequested();
    const path = `/admin/api/letters/${letterId}/sent`;
    // What an HTML form on another site can send: urlencoded, multipart or text/plain, or nothing.
    const forms = [
      api(h, postman).post(path).type('form').send({ x: '1' }),
      api(h, postman).post(path).field('x', '1'),
      api(h, postman).post(path).set('content-type', 'text/plain').send('{"x":1}'),
      api(h, postman).post(path),
    ];
    for (const res of await Promise.all(forms)) {
      expect(res.status, res.text).to.equal(415);
      expect(res.type).to.equal('application/json');
      expect(res.body).to.deep.equal({
        error: 'json_only',
        error_description: 'Тело запроса должно быть в формате JSON: укажите заголовок Content-Type: application/json.',
      });
    }
    expect((await h.services.store.letters.find(letterId))!.status).to.equal('queued');
    expect(auditBy(h, 'admin.letter_sent', 'operator:postman')).to.have.length(0);
    // Checked first: no credentials are even looked at (and no failures counted).
    const anonymous = await api(h).post(path).type('form').send({});
    expect(anonymous.status).to.equal(415);
    expect(anonymous.headers['www-authenticate']).to.equal(undefined);
    const english = await api(h, postman, 'en').post(path);
    expect(english.body.error_description).to.include('Content-Type: application/json');
    // The same request saying it is JSON (a body is optional) goes through.
    const json = await api(h, postman).post(path).set('content-type', 'application/json; charset=utf-8');
    expect(json.status, json.text).to.equal(200);
    expect(json.body.letter).to.include({ id: letterId, status: 'sent' });
  });

  it('is for the post room and administrators only', async () => {
    const { letterId } = await letterRequested();
    const list = await api(h, desk).get('/admin/api/letters');
    expect(list.status).to.equal(403);
    expect(list.body.error_description).to.include('«почта»');
    expect(list.text).to.not.match(/"code"/);
    expect((await api(h, desk).post(`/admin/api/letters/${letterId}/sent`).type('json')).status).to.equal(403);
    expect((await h.services.store.letters.find(letterId))!.status).to.equal('queued');
    expect((await api(h).get('/admin/api/letters')).status).to.equal(401);

    const asAdmin = await api(h, boss).post(`/admin/api/letters/${letterId}/sent`).type('json');
    expect(asAdmin.status).to.equal(200);
    expect(asAdmin.body.letter.sent_by).to.equal('operator:boss');
  });
});
