// Lint rules that matter for Temporal code: no floating promises anywhere, and nothing
// non-deterministic (Node built-ins, Prisma, activity implementations) imported into workflows.
// Then the layers: lib/ and store/ sit beneath everything, the API never reaches into activities/,
// and only the entry points read process.env (they parse it once, lib/config.ts).
import tseslint from 'typescript-eslint';

const upward = (folders) => `^(\\.\\./)+(${folders})(/|$)`;

export default tseslint.config(
  { ignores: ['node_modules/**', 'prisma/generated/**', '.tools/**', 'data/**', 'dist/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^node:', message: 'workflow code must be deterministic: no Node built-ins' },
            { regex: '^(fs|path|http|https|net|crypto|child_process|os|util|events|stream)$', message: 'workflow code must be deterministic: no Node built-ins' },
            { regex: '^@prisma/', message: 'workflow code must not touch the database; use an activity' },
            { regex: '^\\.\\./activities', message: 'import activities as types only (import type)', allowTypeImports: true },
            { regex: '^\\.\\./lib/', message: 'lib/ is for processes, not workflows' },
            { regex: upward('store|api|dev'), message: 'workflow code must not touch the database, the HTTP layer or the dev stack; use an activity' },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/**/*.ts', 'store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: upward('activities|workflows|api'), message: 'lib/ and store/ sit beneath the worker and the API: they import neither activities/, workflows/ nor api/' },
            { regex: upward('dev'), message: 'dev/ is the npm start and test machinery; runtime code does not import it' },
          ],
        },
      ],
    },
  },
  {
    // The embedded dev stack (servers, tool installs, process supervision) stays apart from what runs in production.
    files: ['activities/**/*.ts', 'workers/**/*.ts', 'domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: upward('dev'), message: 'dev/ is the npm start and test machinery; runtime code does not import it' }] }],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: upward('activities'), message: 'the API does not import activities/: shared database access lives in store/' },
            { regex: upward('dev'), message: 'dev/ is the npm start and test machinery; runtime code does not import it' },
            {
              regex: '^(\\.\\./)+workflows/(?!definitions$)',
              message: 'the API imports workflow types only; signals and queries come from workflows/definitions',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // The entry points hand process.env to lib/config.ts once. The npm start machinery in dev/ reads its own
    // dev-only variables (lib/config.ts has loadLocalStackConfig for it).
    files: ['activities/**/*.ts', 'store/**/*.ts', 'domain/**/*.ts', 'workflows/**/*.ts', 'api/**/*.ts', 'workers/**/*.ts', 'lib/**/*.ts'],
    ignores: ['api/main.ts', 'api/kafka/main.ts', 'workers/main.ts', 'lib/config.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read configuration from the HeraldConfig the entry point passes in (lib/config.ts)' },
      ],
    },
  },
);
