// Nest 12 and several of its dependencies ship ESM only; jest's CommonJS runtime cannot require them,
// so swc transforms them along with our TypeScript (legacy decorators + metadata, as Nest needs).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];
const esmPackages = [
  '@nestjs',
  'file-type',
  'strtok3',
  'token-types',
  'peek-readable',
  'uint8array-extras',
  '@tokenizer',
  'load-esm',
  '@electric-sql',
  'content-disposition',
];
const shared = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testEnvironment: 'node',
};
module.exports = {
  // Real servers and databases on a 2-core machine: allow for a busy neighbour. (A global option:
  // jest ignores testTimeout inside a project, which left every test at its 5 s default.)
  testTimeout: 30_000,
  // On two cores jest would run every file in its own process, which by the end of the suite holds GiBs
  // (each file's modules, compiled again): collections there stall every test after. With a limit,
  // the files run in a worker that is replaced once it grows past it.
  workerIdleMemoryLimit: '1GB',
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts', '<rootDir>/test/security/**/*.e2e-spec.ts'] },
  ],
};
