import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'coverage/**', 'jest.config.js', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Nest's decorators and guards legitimately declare classes with only injected members.
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    // A module owns its tables: only its own files may import its entities.
    files: ['src/**/*.ts'],
    ignores: ['src/users/**', 'src/tokens/**', 'src/auth/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/*.entity'], message: 'Call the owning module’s service instead of importing its entity.' }] },
      ],
    },
  },
  {
    // Jest's asymmetric matchers (expect.any, expect.stringContaining) are typed as any.
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  prettier,
);
