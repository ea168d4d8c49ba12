import { afterAll } from 'vitest';
import { feedHeard } from '../server/store/change-signals.js';

/**
 * Test files share their worker's modules (vitest.config.ts, isolate off): a file must leave
 * nothing running that the next would inherit. A change feed still heard is a server not stopped.
 */
afterAll(() => {
  if (feedHeard()) throw new Error('This file left a change feed listening: a server it started was not stopped');
});
