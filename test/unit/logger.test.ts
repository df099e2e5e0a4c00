import { expect } from 'chai';
import { createLogger } from '../../src/logger.ts';
import { logCapture } from '../support/logs.ts';

describe('logger: nothing secret in a line', () => {
  it('writes an error without the raw bytes it carries (a parser error keeps the request it read)', async () => {
    const { lines, sink } = logCapture();
    const err = Object.assign(new Error('Parse Error: Invalid method encountered'), {
      code: 'HPE_INVALID_METHOD',
      rawPacket: Buffer.from('POST /token HTTP/1.1\r\nAuthorization: Basic c2VjcmV0\r\n'),
      body: new Uint8Array([1, 2, 3]),
    });
    createLogger('info', sink).error({ err }, 'failed');
    await new Promise((resolve) => setImmediate(resolve));
    const written = lines[0]!.err as Record<string, unknown>;
    expect(written.message).to.equal('Parse Error: Invalid method encountered');
    expect(written.stack).to.be.a('string');
    expect(written.rawPacket).to.equal('[bytes omitted]');
    expect(written.body).to.equal('[bytes omitted]');
    expect(JSON.stringify(lines)).to.not.include('c2VjcmV0').and.not.include('Authorization');
  });

  it('still redacts the listed paths (a password, a client secret)', async () => {
    const { lines, sink } = logCapture();
    createLogger('info', sink).info({ password: 'hunter2', form: { client_secret: 's3cret' } }, 'submitted');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines[0]!.password).to.equal('[redacted]');
    expect((lines[0]!.form as Record<string, unknown>).client_secret).to.equal('[redacted]');
  });
});
