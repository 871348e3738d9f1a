// Lint rules that matter for Temporal code: no floating promises anywhere, and nothing
// non-deterministic (Node built-ins, Prisma, activity implementations) imported into workflows.
import tseslint from 'typescript-eslint';

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
          ],
        },
      ],
    },
  },
);
