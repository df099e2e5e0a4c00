/**
 * A cookie-keeping HTTP client that behaves like a browser without JavaScript: follows
 * redirects within the provider, reads forms (action, hidden fields), submits them.
 */
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import type { Harness } from './harness.ts';

export interface Page {
  status: number;
  url: string;
  html: string;
  location?: string;
}

export function csrfOf(html: string): string {
  const m = html.match(/name="_csrf" value="([^"]+)"/);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

export function decodeEntities(s: string): string {
  return s
    .replace(/&amp;/g, '&')
    .replace(/&#x3D;/g, '=')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x60;/g, '`');
}

/** The provider's `xsrf` field on a device page (node-oidc-provider's own forms). */
export function xsrfOf(page: Page): string {
  const m = page.html.match(/name="xsrf" value="([^"]+)"/);
  if (!m) throw new Error(`no xsrf field on ${page.url}: ${page.html.slice(0, 300)}`);
  return decodeEntities(m[1]!);
}

export function formAction(html: string, contains: string): string {
  const actions = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((m) => decodeEntities(m[1]!));
  const hit = actions.find((a) => a.includes(contains));
  if (!hit) throw new Error(`no form with action containing ${contains}; have ${actions.join(', ')}`);
  return hit;
}

export class Browser {
  readonly agent: TestAgent;

  constructor(
    readonly harness: Harness,
    private readonly headers: Record<string, string> = {},
  ) {
    this.agent = request.agent(harness.url);
  }

  private path(url: string): string {
    return url.startsWith(this.harness.url) ? url.slice(this.harness.url.length) || '/' : url;
  }

  /**
   * GETs `url` and follows redirects that stay on the provider; stops at the first page or at a
   * redirect elsewhere (the relying party's redirect_uri), which is returned as `location`.
   */
  async get(url: string, maxRedirects = 10): Promise<Page> {
    let current = this.path(url);
    for (let i = 0; i <= maxRedirects; i += 1) {
      const res = await this.agent.get(current).set({ 'accept-language': 'ru', ...this.headers });
      if (res.status >= 300 && res.status < 400 && res.headers.location) {
        const next = new URL(res.headers.location, this.harness.url);
        if (next.origin !== this.harness.url) return { status: res.status, url: current, html: res.text, location: next.href };
        current = next.pathname + next.search;
        continue;
      }
      return { status: res.status, url: current, html: res.text };
    }
    throw new Error('too many redirects');
  }

  /** POSTs a form and follows the redirect chain like a browser. */
  async post(url: string, fields: Record<string, string>, follow = true): Promise<Page> {
    const res = await this.agent
      .post(this.path(url))
      .type('form')
      .set({ 'accept-language': 'ru', ...this.headers })
      .send(fields);
    if (follow && res.status >= 300 && res.status < 400 && res.headers.location) {
      const next = new URL(res.headers.location, this.harness.url);
      if (next.origin !== this.harness.url) return { status: res.status, url, html: res.text, location: next.href };
      return this.get(next.pathname + next.search);
    }
    return { status: res.status, url, html: res.text, location: res.headers.location };
  }

  /** Submits the form on `page` whose action contains `contains`, with its CSRF token. */
  async submit(page: Page, contains: string, fields: Record<string, string>): Promise<Page> {
    return this.post(formAction(page.html, contains), { _csrf: csrfOf(page.html), ...fields });
  }
}
