// ESLint flat config (npm run lint:code): typescript-eslint's recommended rules over the
// TypeScript sources. Not type-aware by default: with type information ESLint takes 60–80 s of
// wall time on the 2-core CI machine instead of ~15 s, and the strict compiler (npm run
// typecheck) already runs. `LINT_TYPED=1 npm run lint:code` adds the two type-aware rules worth
// having here (a promise nobody awaits or catches; a promise used as a condition) — clean today.
// The whole recommendedTypeChecked preset reports ~760 findings, mostly no-unsafe-* around
// untyped node-oidc-provider and koa bodies and no-unnecessary-type-assertion.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const typed = process.env.LINT_TYPED === '1';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'test-artifacts/', 'views/static/', 'docker/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      // A leading underscore marks a value left out on purpose (`const { hash: _hash, ...rest } = x`);
      // the compiler's noUnusedLocals checks the rest.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  ...(typed
    ? [
        {
          files: ['**/*.ts'],
          languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
          rules: {
            '@typescript-eslint/no-floating-promises': 'error',
            // Only promises used as conditions; koa's callback() handed to server.on('request')
            // and async event listeners are fine (they catch their own errors).
            '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
          },
        },
      ]
    : []),
  { files: ['*.js'], languageOptions: { globals: { process: 'readonly' } } },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // A decision by path taken before the router must see the path as the routers match it (any
    // case, one trailing slash): compare routedPath(ctx) from src/web/routed-path.ts, never ctx.path.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          // ctx.path, ctx.url, ctx.originalUrl, req.url (and ctx.request.path): the path as sent
          'BinaryExpression > MemberExpression.left[object.name=/^(ctx|req|request)$/][property.name=/^(path|url|originalUrl)$/]',
          'BinaryExpression > MemberExpression.right[object.name=/^(ctx|req|request)$/][property.name=/^(path|url|originalUrl)$/]',
          'CallExpression[callee.property.name=/^(test|has|exec|includes|indexOf|get)$/] > MemberExpression.arguments[object.name=/^(ctx|req|request)$/][property.name=/^(path|url|originalUrl)$/]',
          'CallExpression > MemberExpression.callee[property.name=/^(startsWith|endsWith|includes|match|search)$/] > MemberExpression.object[object.name=/^(ctx|req|request)$/][property.name=/^(path|url|originalUrl)$/]',
        ].map((selector) => ({
          selector,
          message: 'Compare routedPath(ctx) (src/web/routed-path.ts): the routers match any case and a trailing slash.',
        })),
      ],
    },
  },
  {
    // chai's property assertions (`expect(x).to.be.true`) are expressions by design.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
