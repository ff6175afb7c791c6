'use strict'
// ESLint (flat config) for the package's hand-written JavaScript, run by scripts/test-node with
// pinned eslint, @eslint/js and globals installed into target/lint-tools.
const js = require('@eslint/js')
const globals = require('globals')

module.exports = [
  { ignores: ['index.js', 'node_modules/**', 'npm/**'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
  },
]
