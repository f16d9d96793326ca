/** What tests and benchmarks share besides the provider fakes: PostgreSQL databases of their own. */
export {
  createScratchDatabase,
  createTestDatabase,
  postgresRequired,
  serverUnreachable,
  testServerUrl,
  withServer,
  type ScratchDatabase,
  type TestDatabase,
} from './postgres.js';
