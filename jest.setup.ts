// Tests run on the exact cpu backend unless a test selects another one.
import { selectBackend } from '@wsss/core';

beforeAll(async () => {
  await selectBackend({ preference: 'cpu', log: null });
});
