import { expect } from 'chai';
import { attribute, formatAttribution, ownerOf, profiledServers } from '../../scripts/bench/perf-profile.ts';

/** One sample of `perf script`: the header line, then frames innermost first. */
const sample = (tid: number, ...frames: string[]) =>
  [`node ${tid} 35664.853439:    1001001 cpu-clock:ppp: `, ...frames.map((f) => `\t    7f00 ${f}`)].join('\n');

describe('bench: perf samples put where their CPU went (BENCH_PERF)', () => {
  it('names the owner of a JavaScript frame: a vkhod file, a package, Node itself', () => {
    expect(ownerOf('JS:*findAccount file:///work/main/src/oidc/provider.ts:382:10 (/tmp/perf-1.map)')).to.equal('src/oidc/provider.ts');
    expect(ownerOf('JS:^find file:///work/main/adapters/sqlite/oidc-adapter.ts:62:3 (/tmp/perf-1.map)')).to.equal(
      'adapters/sqlite/oidc-adapter.ts',
    );
    expect(ownerOf('JS:*respond file:///work/main/node_modules/koa/lib/application.js:288:22 (/tmp/perf-1.map)')).to.equal('pkg:koa');
    expect(ownerOf('JS:~sign file:///work/main/node_modules/@koa/router/dist/index.js:1:2 (/tmp/perf-1.map)')).to.equal('pkg:@koa/router');
    // CommonJS modules are named by path, not URL.
    expect(ownerOf('JS:*respond /work/main/node_modules/koa/lib/application.js:288:22 (/tmp/perf-1.map)')).to.equal('pkg:koa');
    expect(ownerOf('JS:*parserOnIncoming node:_http_server:1026:26 (/tmp/perf-1.map)')).to.equal('node:');
    expect(ownerOf('v8::internal::Heap::Scavenge (/usr/bin/node)')).to.equal(undefined);
  });

  it('puts each sample in one place: fixed categories first, then the innermost owner, and counts the event loop apart', () => {
    const text = [
      sample(10, '[unknown] (/x/node_modules/@node-rs/argon2-linux-x64-gnu/argon2.node)', 'start_thread (/usr/lib/libc.so.6)'),
      sample(11, '[unknown] (/x/node_modules/@node-rs/argon2-linux-x64-gnu/argon2.node)'),
      sample(
        1,
        '[unknown] (/x/node_modules/@libsql/linux-x64-gnu/index.node)',
        'JS:*find file:///w/adapters/sqlite/oidc-adapter.ts:62:3 (/tmp/p.map)',
      ),
      // A package called from vkhod's code: the package's (innermost owner), not vkhod's.
      sample(
        1,
        'Builtins_LoadIC (/usr/bin/node)',
        'JS:*dispatch file:///w/node_modules/koa-compose/index.js:40:1 (/tmp/p.map)',
        'JS:*gate file:///w/src/web/request-gate.ts:60:1 (/tmp/p.map)',
      ),
      sample(1, 'Builtins_LoadIC (/usr/bin/node)', 'JS:*gate file:///w/src/web/request-gate.ts:60:1 (/tmp/p.map)'),
      sample(1, 'v8::internal::Heap::CollectGarbage (/usr/bin/node)', 'JS:*gate file:///w/src/web/request-gate.ts:60:1 (/tmp/p.map)'),
      sample(1, 'tcp_sendmsg ([kernel.kallsyms])', 'JS:*writev node:internal/stream_base_commons:122:1 (/tmp/p.map)'),
      sample(12, 'pvm_irq_enable ([kernel.kallsyms])'),
    ].join('\n\n');
    const { samples, shares, eventLoop } = attribute(text, [1]);
    expect(samples).to.equal(8);
    expect(shares.get('argon2id (password hashing)')).to.equal(2 / 8);
    expect(shares.get('the store (libsql, WAL writes, fsync)')).to.equal(1 / 8);
    expect(shares.get('pkg:koa-compose')).to.equal(1 / 8);
    expect(shares.get('src/web/request-gate.ts')).to.equal(1 / 8);
    expect(shares.get('garbage collection')).to.equal(1 / 8);
    expect(shares.get("Node's own code (http, streams, timers…)")).to.equal(1 / 8);
    expect(shares.get('kernel (network, memory)')).to.equal(1 / 8);
    expect(eventLoop).to.equal(5 / 8);
    // Largest first; the report turns shares into ms per operation and sums vkhod's own files.
    expect([...shares.keys()][0]).to.equal('argon2id (password hashing)');
    const report = formatAttribution('vkhod sign-in', 8000, { samples, shares, eventLoop });
    expect(report).to.match(/25\.0%\s+2\.00 ms\/op\s+argon2id/);
    expect(report).to.match(/12\.5%\s+1\.00 ms\/op\s+vkhod's own code, all files/);
    expect(report).to.match(/62\.5%\s+5\.00 ms\/op\s+on the event loop/);
    // A request of a few hundred µs is shown in µs.
    expect(formatAttribution('vkhod userinfo', 400, { samples, shares, eventLoop })).to.match(/25\.0%\s+100\.0 µs\/op\s+argon2id/);
  });

  it("takes BENCH_PERF and BENCH_CPU_PROF as a list of the bench's servers and refuses a name it does not know, saying which", () => {
    expect([...profiledServers('BENCH_PERF', ' vkhod, bare ')]).to.deep.equal(['vkhod', 'bare']);
    expect(profiledServers('BENCH_PERF', undefined).size).to.equal(0);
    expect(profiledServers('BENCH_CPU_PROF', '').size).to.equal(0);
    expect(() => profiledServers('BENCH_PERF', 'vkhod,vkod')).to.throw(
      /^BENCH_PERF: vkod is not a server of the bench; name vkhod, base, bare/,
    );
  });
});
