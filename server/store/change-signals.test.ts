import { afterEach, describe, expect, it, vi } from 'vitest';
import { feedHeardChanged, Followed, signalChange, signalWrite } from './change-signals.js';

/** The one freshness rule of the caches that follow the database, on a clock of the test's own. */
describe('a cache that follows the database', () => {
  // The clock starts an hour ahead: writes this worker's earlier test files made are long past.
  const later = () => Date.now() + 3_600_000;
  afterEach(() => vi.useRealTimers());

  it('without a feed, looks at most every freshMs, and at every use for afterWriteMs after a write here', () => {
    vi.useFakeTimers({ now: later() });
    const cache = new Followed(['ValueSet'], 1000, 3000);
    expect(cache.current()).toBe(false);
    cache.look()();
    expect(cache.current()).toBe(true);
    vi.advanceTimersByTime(1001);
    expect(cache.current()).toBe(false);
    cache.look()();
    signalWrite('ValueSet');
    expect(cache.current()).toBe(false);
    cache.look()();
    vi.advanceTimersByTime(2000);
    expect(cache.current()).toBe(false);
    vi.advanceTimersByTime(1001);
    cache.look()();
    expect(cache.current()).toBe(true);
    // A write of another type is not its concern.
    signalWrite('Patient');
    expect(cache.current()).toBe(true);
  });

  it('with a feed heard, looks again only once a change of its types was heard, and after the feed was lost and found', () => {
    vi.useFakeTimers({ now: later() });
    const cache = new Followed(['SearchParameter'], 1000, 3000);
    feedHeardChanged(true);
    try {
      cache.look()();
      vi.advanceTimersByTime(60_000);
      expect(cache.current()).toBe(true);
      signalChange('Observation');
      expect(cache.current()).toBe(true);
      signalChange('SearchParameter');
      expect(cache.current()).toBe(false);
      // A look that failed is not recorded.
      cache.look();
      expect(cache.current()).toBe(false);
      const looked = cache.look();
      // A change heard while looking: the copy may have missed it.
      signalChange('SearchParameter');
      looked();
      expect(cache.current()).toBe(false);
      cache.look()();
      expect(cache.current()).toBe(true);
      feedHeardChanged(false);
      feedHeardChanged(true);
      expect(cache.current()).toBe(false);
      cache.look()();
      cache.forget();
      expect(cache.current()).toBe(false);
    } finally {
      feedHeardChanged(false);
    }
  });
});
