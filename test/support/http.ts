/**
 * One raw HTTP request, for what supertest and fetch cannot send as it is: any method (TRACE,
 * PROPFIND), a missing Accept, a Content-Encoding the client did not apply, a chosen agent.
 */
import { request as httpRequest, type Agent } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  options: { body?: string; agent?: Agent } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: options.agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
