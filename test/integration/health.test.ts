/** Health endpoints and the 500 page */
import { expect } from 'chai';
import request from 'supertest';
import { startHarness, type Harness } from '../support/harness.ts';
import { firstError } from './fixtures.ts';
import { RecordingBrowser } from './bad-input-fixtures.ts';

describe('health endpoints', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('/healthz is 200 and /readyz is 200 with the store kind, then 503 once the store is gone', async () => {
    const health = await request(h.url).get('/healthz');
    expect(health.status).to.equal(200);
    expect(health.body).to.deep.equal({ status: 'ok' });
    const ready = await request(h.url).get('/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ status: 'ready', store: 'sqlite' });

    await h.services.store.close();
    const down = await request(h.url).get('/readyz');
    expect(down.status).to.equal(503);
    expect(down.body).to.deep.equal({ status: 'unavailable', store: 'sqlite' });
    expect((await request(h.url).get('/healthz')).status, 'the process itself is alive').to.equal(200);

    // An unexpected failure is a 500 page without details.
    const broken = await new RecordingBrowser(h).get('/register/AAAAAAAAAAAAAAAAAAAAAA');
    expect(broken.status).to.equal(500);
    expect(firstError(broken.html)).to.equal('Внутренняя ошибка сервиса. Попробуйте позже — мы уже знаем о проблеме.');
  });
});
