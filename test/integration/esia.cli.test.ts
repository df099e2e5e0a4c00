/**
 * `vkhod clients add-esia` (issue 13): registers an ESIA-profile client from its certificate file
 * — the clients file gets an `esia` block vkhod loads at start; list shows it; mistakes (no such
 * scope, not a certificate, a duplicate mnemonic) exit 2 with a message and change nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../config/load.ts';
import { readEsiaClients } from '../../src/esia/clients.ts';
import { cliSandbox, type CliSandbox } from '../support/cli.ts';
import { EsiaRelyingParty } from '../support/esia-rp.ts';

describe('CLI: vkhod clients add-esia', function () {
  this.timeout(180_000);
  let cli: CliSandbox;
  let rp: EsiaRelyingParty;
  before(() => {
    cli = cliSandbox();
    rp = new EsiaRelyingParty('MYSERVICE', 'rsa');
  });
  after(() => {
    cli.close();
    rp.close();
  });

  it('adds the client with its certificate, redirect URIs and scopes; vkhod reads it; list shows it', async () => {
    const added = await cli.run(
      'clients',
      'add-esia',
      '--id',
      'MYSERVICE',
      '--name',
      'Мой сервис',
      '--certificate',
      rp.cert,
      '--redirect-uri',
      'https://my.example.test/esia/cb',
      '--logout-uri',
      'https://my.example.test/',
      '--scope',
      'openid fullname snils',
      '--gost-tokens',
    );
    expect(added.code, added.stderr).to.equal(0);
    const config = loadConfig(cli.env);
    const client = readEsiaClients(config.clients).get('MYSERVICE');
    expect(client).to.include({ clientId: 'MYSERVICE', tokenAlg: 'GOST3410_2012_256' });
    expect(client!.redirectUris).to.deep.equal(['https://my.example.test/esia/cb']);
    expect([...client!.scopes]).to.deep.equal(['openid', 'fullname', 'snils']);
    const list = await cli.run('clients', 'list');
    expect(list.stdout).to.match(/MYSERVICE\tesia \(GOST3410_2012_256\)\topenid fullname snils/);
  });

  it('refuses an unknown scope, a file that is not a certificate and a duplicate, leaving the file as it was', async () => {
    const file = cli.env.VKHOD_CLIENTS_FILE!;
    const before = readFileSync(file, 'utf8');
    const notCert = join(rp.dir, 'not-a-cert.pem');
    writeFileSync(notCert, 'hello');
    const base = ['clients', 'add-esia', '--certificate', rp.cert, '--redirect-uri', 'https://x.example.test/cb'];
    for (const [args, message] of [
      [[...base, '--id', 'OTHER', '--scope', 'openid vehicles'], /unknown vehicles/],
      [
        [
          'clients',
          'add-esia',
          '--id',
          'OTHER',
          '--certificate',
          notCert,
          '--redirect-uri',
          'https://x.example.test/cb',
          '--scope',
          'openid',
        ],
        /certificate/,
      ],
      [[...base, '--id', 'MYSERVICE', '--scope', 'openid'], /already exists/],
    ] as Array<[string[], RegExp]>) {
      const res = await cli.run(...args);
      expect(res.code, res.stderr).to.equal(2);
      expect(res.stderr).to.match(message);
    }
    expect(readFileSync(file, 'utf8')).to.equal(before);
  });
});
