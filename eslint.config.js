import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', '.tools/**', '.local/**', 'hbase-local/**', 'coverage/**', '*.cjs', 'test/support/hbase-rest-pb/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Only adapters talk to the outside world: the domain stays testable with in-memory fakes.
    files: ['src/step/**/*.ts', 'src/shared/**/*.ts', 'src/contracts/**/*.ts'],
    ignores: ['src/**/*adapter*.ts', 'src/**/adapters/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@aws-sdk/*', 'undici', 'parquet-wasm', 'apache-arrow', 'hyparquet*'] }],
    },
  },
);
