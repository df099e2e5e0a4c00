// Dependency rules (npm run lint:code, run by .ci/run). The direction is DESIGN §4 / docs/ARCHITECTURE.md:
//
//   main.ts → app.ts → services.ts (composition root)
//   flows, cabinet, admin, demo (HTTP layers; never each other) → federation → methods → accounts → store.ts (the port)
//   oidc/ sits beside them: used by the HTTP layers, uses accounts; it is the only place that configures
//   node-oidc-provider. web/ (views, errors), security/, notify/ and config/ are plumbing used from above.
//   adapters/* implement the port and know nothing of the layers above it.
//
// Type-only imports count: `import type` still couples two modules. The one exception is the type
// `Services` (services.ts), which the route modules name for the dependencies they take.
//
// There are no known exceptions: any import against a rule fails the build.

// esia: the ESIA profile (issue 13), an HTTP layer of its own
const HTTP_LAYERS = '^src/(flows|cabinet|admin|demo|esia)/';
const ROOT = '^src/(main|app|services)[.]ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import circles.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-main',
      severity: 'error',
      comment: 'Nothing imports src/main.ts (the process).',
      from: {},
      to: { path: '^src/main[.]ts$' },
    },
    {
      name: 'root-from-below',
      severity: 'error',
      comment:
        'app.ts and services.ts are the composition root: only main.ts, app.ts, the CLI and tests import them (route modules may name the type Services).',
      from: { path: '^src/', pathNot: ROOT },
      to: { path: '^src/(app|services)[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'services-type-only-for-routes',
      severity: 'error',
      comment: 'Only the HTTP layers name the type Services; lower modules take what they need as parameters.',
      from: { path: '^src/', pathNot: [ROOT, HTTP_LAYERS, '^src/federation/'] },
      to: { path: '^src/(app|services)[.]ts$' },
    },
    {
      name: 'http-layers-apart',
      severity: 'error',
      comment:
        'flows, cabinet, admin, demo and esia do not import each other; what two of them need goes below (federation, methods, accounts).',
      from: { path: '^src/(flows|cabinet|admin|demo|esia)/' },
      to: { path: '^src/(flows|cabinet|admin|demo|esia)/', pathNot: '^src/$1/' },
    },
    {
      name: 'federation-below-http',
      severity: 'error',
      comment:
        'federation/ is shared by flows and cabinet: it imports neither (it may name the type Services, like the route modules it serves).',
      from: { path: '^src/federation/' },
      to: { path: [HTTP_LAYERS, ROOT], pathNot: '^src/services[.]ts$' },
    },
    {
      name: 'federation-services-type-only',
      severity: 'error',
      comment: 'federation/ names the type Services only; it never builds anything from the root.',
      from: { path: '^src/federation/' },
      to: { path: '^src/services[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'methods-below-federation',
      severity: 'error',
      comment: 'A method verifies and returns who and which amr; it knows no HTTP, no flows, no provider.',
      from: { path: '^src/methods/' },
      to: { path: [HTTP_LAYERS, '^src/(federation|oidc|web)/', ROOT] },
    },
    {
      name: 'accounts-is-the-domain',
      severity: 'error',
      comment: 'accounts/ imports only the port, security (audit events in the same write), config types and itself.',
      from: { path: '^src/accounts/' },
      to: { path: [HTTP_LAYERS, '^src/(federation|methods|oidc|web|notify)/', ROOT] },
    },
    {
      name: 'oidc-below-http',
      severity: 'error',
      comment: 'oidc/ (the provider configuration) is used by the HTTP layers; it uses accounts, security, the port.',
      from: { path: '^src/oidc/' },
      to: { path: [HTTP_LAYERS, '^src/(federation|methods|web)/', ROOT] },
    },
    {
      name: 'plumbing-below-layers',
      severity: 'error',
      comment: 'web/, security/ and notify/ are used by every layer; they import none of them.',
      from: { path: '^src/(web|security|notify)/' },
      to: { path: [HTTP_LAYERS, '^src/(federation|methods|oidc)/'] },
    },
    {
      name: 'port-is-the-bottom',
      severity: 'error',
      comment: 'store.ts holds interfaces only: it imports nothing of vkhod but the domain types from accounts/ (import type).',
      from: { path: '^src/store[.]ts$' },
      to: { path: '^(src|adapters|config)/', pathNot: '^src/accounts/' },
    },
    {
      name: 'port-types-only',
      severity: 'error',
      comment: 'store.ts may name domain types, never import code.',
      from: { path: '^src/store[.]ts$' },
      to: { path: '^src/accounts/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'adapters-below-port',
      severity: 'error',
      comment: 'adapters/* implement the port: nothing from the layers above it.',
      from: { path: '^adapters/' },
      to: { path: [HTTP_LAYERS, '^src/(federation|methods|oidc|web|security|notify)/', ROOT] },
    },
    {
      name: 'adapters-only-through-open',
      severity: 'error',
      comment: 'src/ reaches an adapter only through adapters/open.ts, and only main.ts does.',
      from: { path: '^src/', pathNot: '^src/main[.]ts$' },
      to: { path: '^adapters/' },
    },
    {
      name: 'config-imports-no-src',
      severity: 'error',
      comment: 'config/ is read by everything and imports nothing from src/ or adapters/.',
      from: { path: '^config/' },
      to: { path: '^(src|adapters)/' },
    },
    {
      name: 'no-tests-in-production',
      severity: 'error',
      comment: 'Production code does not import test code.',
      from: { path: '^(src|adapters|config)/' },
      to: { path: '^test/' },
    },
    {
      name: 'oidc-provider-only-in-oidc',
      severity: 'error',
      comment:
        'oidc/ is the only place that configures node-oidc-provider; flows reach its interaction API through flows/interaction/context.ts; the root builds and mounts it.',
      from: { path: '^(src|adapters)/', pathNot: ['^src/oidc/', '^src/flows/interaction/context[.]ts$', ROOT] },
      to: { path: 'node_modules/oidc-provider/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
