// Jest runs in native ESM mode (Nest 12, jose and typeorm's ESM build are ES modules), so
// swc emits ES modules and `npm test` starts node with --experimental-vm-modules.
const REQUIRED_ESM = ['content-disposition', 'cookie'];

/** @type {import('jest').Config} */
const config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { swcrc: true }],
    '^.+\\.js$': ['@swc/jest', { swcrc: false, jsc: { target: 'es2023' } }],
  },
  // CommonJS packages (mercurius → @fastify/static) require ESM-only ones; Node 22 allows that
  // but Jest's module system does so only from Node 24.9. These few are compiled to CommonJS.
  transformIgnorePatterns: [`/node_modules/(?!(${REQUIRED_ESM.join('|')})/)`],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/migrations', '<rootDir>/web/src'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};

export default config;
