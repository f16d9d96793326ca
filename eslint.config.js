// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Component boundaries are enforced here rather than in review:
 * - a component is reached from another only through its `index.ts`;
 * - `src/core` (domain types, errors, clock) imports nothing outside itself.
 */
const crossComponentDeepImport = {
  regex: '^(\\.\\./)+(?:src/)?(?!core/|src/)[^/.][^/]*/(?!index\\.js$).+',
  message: 'Import another component through its index.js, not its internals.',
};

/** The same rule for tests, which may also import `test/fakes/index.js` and `test/support/index.js`. */
const testDeepImport = {
  ...crossComponentDeepImport,
  regex:
    '^(\\.\\./)+(?:src/)?(?!core/|src/|test/(?:fakes|support)/index\\.js$)[^/.][^/]*/(?!index\\.js$).+',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-restricted-imports': ['error', { patterns: [crossComponentDeepImport] }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ regex: '^\\.\\./', message: 'The core imports nothing outside src/core.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Tests may also use the shared loopback fakes (test/fakes/index.js).
      'no-restricted-imports': ['error', { patterns: [testDeepImport] }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
