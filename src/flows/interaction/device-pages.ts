/**
 * The pages of the device authorization grant (RFC 8628) that node-oidc-provider asks for: the
 * citizen types the code a TV or kiosk shows, sees which service and which device ask, confirms
 * (then signs in and consents like in any interaction) or refuses. The forms post to the
 * provider's own endpoint with its `xsrf` token; wrong codes are counted per address
 * (device-code-entry.ts reads `ctx.state.deviceCodeOutcome`).
 */
import type { Context } from 'koa';
import type { ProviderPages } from '../../oidc/provider.ts';
import { deviceLabel } from '../../web/user-agent.ts';
import type { Views } from '../../web/views.ts';

/** What the last user-code entry came to, for the wrong-code limit. */
export type DeviceCodeOutcome = 'wrong' | 'found';

type DevicePages = Pick<ProviderPages, 'deviceCodeInput' | 'deviceCodeConfirm' | 'deviceSuccess'>;

export function devicePages(views: Views): DevicePages {
  return {
    async deviceCodeInput(ctx, entry, problem) {
      const c = ctx as unknown as Context;
      if (problem === 'not_found') c.state.deviceCodeOutcome = 'wrong' satisfies DeviceCodeOutcome;
      else if (problem) c.state.deviceCodeOutcome = 'found' satisfies DeviceCodeOutcome;
      // A refused request (aborted) is an answer, not an error; a form the provider could not
      // check (its xsrf) is the sender's mistake like a wrong code.
      const status = problem === 'expired' || problem === 'already_used' ? 410 : problem && problem !== 'aborted' ? 400 : 200;
      views.render(
        c,
        'device-code',
        {
          title: 'device.title',
          action: entry.action,
          xsrf: entry.xsrf,
          userCode: problem === 'not_found' || problem === 'expired' ? entry.userCode : undefined,
          error: problem && problem !== 'aborted' ? views.t(c, `device.problem_${problem}`) : undefined,
          aborted: problem === 'aborted',
        },
        status,
      );
    },
    async deviceCodeConfirm(ctx, entry, request) {
      const c = ctx as unknown as Context;
      c.state.deviceCodeOutcome = 'found' satisfies DeviceCodeOutcome;
      views.render(c, 'device-confirm', {
        title: 'device.confirm_title',
        action: entry.action,
        xsrf: entry.xsrf,
        userCode: request.userCode,
        clientName: request.clientName,
        device: deviceLabel(request.deviceUserAgent, views.t(c, 'device.unknown_device')),
        deviceIp: request.deviceIp,
      });
    },
    async deviceSuccess(ctx) {
      const c = ctx as unknown as Context;
      const client = ctx.oidc.client;
      views.render(c, 'done', {
        title: 'device.done_title',
        message: views.t(c, 'device.done', { service: client?.clientName ?? client?.clientId ?? '' }),
      });
    },
  };
}
