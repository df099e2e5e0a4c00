import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import { Views } from '../../src/web/views.ts';

const VIEWS = fileURLToPath(new URL('../../views', import.meta.url));

function pageContext(): Context {
  const headers: Record<string, string> = {};
  return {
    state: { nonce: 'nonce-1' },
    query: {},
    path: '/interaction/x',
    cookies: { get: () => undefined },
    get: () => 'ru',
    set: (name: string, value: string) => void (headers[name] = value),
  } as unknown as Context;
}

describe('Views', () => {
  it('compiles every template once, at start: rendering pages with partials compiles nothing', () => {
    const views = new Views(VIEWS);
    const hbs = (views as unknown as { hbs: { compile: (...args: unknown[]) => unknown } }).hbs;
    let compiled = 0;
    const compile = hbs.compile.bind(hbs);
    hbs.compile = (...args: unknown[]) => {
      compiled += 1;
      return compile(...args);
    };
    const first = pageContext();
    views.render(first, 'login', { title: 'login.title' });
    const second = pageContext();
    views.render(second, 'login', { title: 'login.title' });
    expect(compiled).to.equal(0);
    // the partials did render (the language switch and the page frame come from partials and the layout)
    expect(String(second.body)).to.equal(String(first.body)).and.to.include('nonce-1');
    expect(String(second.body).length).to.be.greaterThan(1000);
  });
});
