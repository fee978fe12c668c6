/**
 * The module boundaries of src/, checked by `npm run check` (depcruise). A module is a folder directly
 * under src/; the files directly in src/ (main, bootstrap, app.module) compose the modules and are
 * bound only by the cycle and test-code rules.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle is a design cycle whether or not it survives compilation: type-only imports count.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-foreign-entities',
      severity: 'error',
      comment:
        'A module owns its tables: call the owning module’s exported service. Naming the type (`import type`) is allowed, ' +
        'since the owner’s service returns its entities; it gives no access to the table.',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/.+\\.entity\\.ts$', pathNot: '^src/$1/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-foreign-repositories',
      severity: 'error',
      comment: 'A module’s repositories are its own: call its exported service.',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/.+\\.repository\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'no-foreign-dtos',
      severity: 'error',
      comment:
        'Request DTOs are one module’s HTTP contract; another module declares its own. Response DTOs are the published shape of what a module owns (a user), so others may return them.',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/dto/', pathNot: ['^src/$1/', '-response\\.dto\\.ts$'] },
    },
    {
      name: 'shared-code-stays-below-features',
      severity: 'error',
      comment:
        'common/, config/ and tls/ (the listener’s certificate, which config checks at start) are what feature modules build on; ' +
        'they never reach up into one.',
      from: { path: '^src/(common|config|tls)/' },
      to: { path: '^src/', pathNot: '^src/(common|config|tls)/' },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      comment: 'The gateway never ships or depends on test, bench or script code.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Keep `import type` edges: without this they vanish and hide type-only cycles.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
