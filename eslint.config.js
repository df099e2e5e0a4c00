// ESLint flat config (npm run lint:code): typescript-eslint's recommended rules over the
// TypeScript sources, plus three type-aware rules about promises (a promise nobody awaits or
// catches, a promise used as a condition). The whole type-aware preset (recommendedTypeChecked)
// is not used: it reports ~760 findings today, most of them no-unsafe-* around untyped
// node-oidc-provider and koa bodies and no-unnecessary-type-assertion; the strict compiler
// (npm run typecheck) covers the rest. Linting with type information takes ~30 s here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'test-artifacts/', 'views/static/', 'docker/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Only promises used as conditions; koa's callback() handed to server.on('request') and
      // async event listeners are fine (they catch their own errors).
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // A leading underscore marks a value left out on purpose (`const { hash: _hash, ...rest } = x`);
      // the compiler's noUnusedLocals checks the rest.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // chai's property assertions (`expect(x).to.be.true`) are expressions by design.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
