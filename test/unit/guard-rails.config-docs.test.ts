/** docs/configuration.md lists exactly the settings config/schema.ts knows (issue 10). */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { envSchema } from '../../config/schema.ts';

describe('docs/configuration.md', () => {
  const whole = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  // The server's settings; "Outside the server" lists what only the helper scripts read.
  const doc = whole.split(/^## Outside the server/m)[0]!;
  // A setting is documented by a table row that starts with its name: | `VKHOD_…` | …
  const documented = new Set([...doc.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!));
  const known = new Set(Object.keys(envSchema.shape));

  it('has a row for every setting of the schema', () => {
    expect([...known].filter((name) => !documented.has(name))).to.deep.equal([]);
  });

  it('has no row for a setting the schema does not know', () => {
    expect([...documented].filter((name) => !known.has(name))).to.deep.equal([]);
  });
});
