import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { HashThreadError, HashThreads } from '../../src/accounts/hash-threads.ts';
import { availableParallelism } from 'node:os';
import { decoyHash, hashingThreads, hashPassword, shareHashingCores, verifyPassword } from '../../src/accounts/password-hash.ts';

const PARAMS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Niceness of each of this process's threads (field 19 of /proc/self/task/<tid>/stat). */
function niceness(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const text = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      out.set(Number(tid), Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

describe('password hashing threads (issue 15: hashes never crowd out the event loop)', function () {
  this.timeout(30_000);

  it('hashes with argon2id at vkhod’s parameters and verifies: right password, wrong password, a malformed hash', async () => {
    const hash = await hashPassword('Верный-пароль-1');
    expect(hash).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, 'Верный-пароль-1')).to.equal(true);
    expect(await verifyPassword(hash, 'Верный-пароль-2')).to.equal(false);
    expect(await verifyPassword('not a hash', 'x')).to.equal(false);
    expect(await verifyPassword(await decoyHash(), 'anything')).to.equal(false);
  });

  it('runs many verifies at once on at most `size` threads, each answered with its own result', async () => {
    const threads = new HashThreads(2);
    try {
      const hash = await threads.hash('пароль', PARAMS);
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => threads.verify(hash, i % 3 ? 'пароль' : 'другой')));
      expect(results).to.deep.equal(Array.from({ length: 12 }, (_, i) => i % 3 !== 0));
      expect(threads.threads).to.equal(2);
    } finally {
      await threads.close();
    }
  });

  it('lowers the priority of its threads (Linux: niceness 10), not of the event loop', async function () {
    if (process.platform !== 'linux') this.skip();
    const before = niceness();
    const threads = new HashThreads(1);
    try {
      await threads.hash('пароль', PARAMS);
      const added = [...niceness()].filter(([tid]) => !before.has(tid));
      expect(added.map(([, nice]) => nice)).to.include(10);
      expect(niceness().get(process.pid)).to.equal(before.get(process.pid));
    } finally {
      await threads.close();
    }
  });

  it('fails a job whose thread is stopped under it, and one waiting for it, and starts a fresh thread for the next', async () => {
    const threads = new HashThreads(1);
    try {
      const running = threads.hash('пароль', PARAMS);
      const closing = threads.close();
      let failure: unknown;
      await running.catch((err: unknown) => (failure = err));
      await closing;
      expect(failure).to.be.instanceOf(HashThreadError);
      // A job still waiting for the thread fails too, rather than waiting for ever.
      const first = threads.hash('пароль', PARAMS).catch((err: unknown) => err);
      const waiting = threads.hash('пароль', PARAMS).catch((err: unknown) => err);
      await threads.close();
      expect(await first).to.be.instanceOf(HashThreadError);
      expect(await waiting).to.be.instanceOf(HashThreadError);
      const hash = await threads.hash('пароль', PARAMS);
      expect(await threads.verify(hash, 'пароль')).to.equal(true);
    } finally {
      await threads.close();
    }
  });

  it('ends a thread idle for longer than its idle time (its memory goes back), and starts one again for the next hash', async function () {
    if (process.platform !== 'linux') this.skip();
    const tasks = () => new Set(readdirSync('/proc/self/task'));
    const before = tasks();
    const threads = new HashThreads(1, 300);
    try {
      const hash = await threads.hash('пароль', PARAMS);
      const started = [...tasks()].filter((tid) => !before.has(tid));
      expect(started, 'the hashing thread').to.not.be.empty;
      // Jobs closer together than the idle time keep the same thread.
      for (let i = 0; i < 3; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(await threads.verify(hash, 'пароль')).to.equal(true);
        expect(threads.threads).to.equal(1);
        expect(
          started.every((tid) => tasks().has(tid)),
          'still the first thread',
        ).to.equal(true);
      }
      for (let waited = 0; threads.threads > 0 && waited < 3000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(threads.threads).to.equal(0);
      for (let waited = 0; started.some((tid) => tasks().has(tid)) && waited < 3000; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(
        started.filter((tid) => tasks().has(tid)),
        'threads of the ended worker',
      ).to.deep.equal([]);
      expect(await threads.verify(hash, 'пароль')).to.equal(true);
      expect(threads.threads).to.equal(1);
    } finally {
      await threads.close();
    }
  });

  it('rejects a hash the library refuses (bad parameters) without stopping the thread', async () => {
    const threads = new HashThreads(1);
    try {
      let failure: unknown;
      await threads.hash('пароль', { ...PARAMS, memoryCost: 1 }).catch((err: unknown) => (failure = err));
      expect(failure).to.be.instanceOf(Error);
      expect(failure).to.not.be.instanceOf(HashThreadError);
      expect(await threads.verify(await threads.hash('пароль', PARAMS), 'пароль')).to.equal(true);
    } finally {
      await threads.close();
    }
  });

  it('shares the cores among worker processes: one hash per core for the whole cluster, at least one per process', () => {
    const cores = availableParallelism();
    try {
      shareHashingCores(1);
      expect(hashingThreads()).to.equal(cores);
      shareHashingCores(cores);
      expect(hashingThreads()).to.equal(1);
      shareHashingCores(cores * 4);
      expect(hashingThreads()).to.equal(1);
    } finally {
      shareHashingCores(1);
    }
  });

  it('keeps a process alive while it hashes, and lets it exit once idle (a CLI that hashes one password ends)', () => {
    const script = `
      import { hashPassword } from ${JSON.stringify(new URL('../../src/accounts/password-hash.ts', import.meta.url).pathname)};
      hashPassword('пароль').then((hash) => process.stdout.write(hash.slice(0, 10)));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.status, child.stderr).to.equal(0);
    expect(child.stdout).to.equal('$argon2id$');
  });
});
