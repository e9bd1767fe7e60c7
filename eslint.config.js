import globals from 'globals'
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['node_modules', 'openapi', 'migrations', 'data', 'scratch', '.tap', 'coverage', 'bench/results', '.build'] }),
  {
    rules: {
      // Examples in schemas read best as compact literals.
      '@stylistic/object-property-newline': 'off',
      // TypeBox idiom: a schema and its static type share one name.
      '@typescript-eslint/no-redeclare': 'off'
    }
  },
  // The dashboard's ES modules run in the browser.
  { files: ['src/dashboard/**/*.js'], languageOptions: { globals: globals.browser } }
]
