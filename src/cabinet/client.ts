/**
 * The cabinet as a client of vkhod's own provider (first party, response type `none`). Kept apart
 * from the cabinet's session code so the composition root (services.ts) can register it without
 * importing what itself depends on the services.
 */
export const CABINET_CLIENT_ID = 'vkhod-cabinet';

export function cabinetClient(issuer: string) {
  return {
    client_id: CABINET_CLIENT_ID,
    client_name: 'Личный кабинет vkhod',
    redirect_uris: [`${issuer}/account/callback`],
    post_logout_redirect_uris: [`${issuer}/`],
    response_types: ['none'],
    grant_types: [],
    token_endpoint_auth_method: 'none',
  };
}
