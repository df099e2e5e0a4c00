/**
 * node-oidc-provider's own keystore initialisation (what its constructor runs on `jwks`): used by
 * live-keys.ts to swap the provider's signing keys without a restart. Not part of its typed API.
 */
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  export default function initializeKeystore(this: object, jwks: { keys: object[] }): void;
}
