/** Root jest config: every package's tests run against its TypeScript sources (no build needed). */
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
  },
];

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  testMatch: [
    '<rootDir>/packages/*/test/**/*.test.ts',
    '<rootDir>/examples/*/test/**/*.test.ts',
    '<rootDir>/test/**/*.test.ts',
  ],
  moduleNameMapper: {
    '^@wsss/([a-z-]+)/testing$': '<rootDir>/packages/$1/src/testing/index.ts',
    '^@wsss/cli/bench$': '<rootDir>/packages/cli/src/bench/index.ts',
    '^@wsss/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/jest.global-setup.ts',
  setupFilesAfterEnv: ['<rootDir>/jest.setup.ts'],
  reporters: ['default', '<rootDir>/jest.summary-reporter.cjs'],
  testTimeout: 120000,
};
