/**
 * Oversize pages on the real pieces (mock Okta on a manual clock over loopback HTTP, the Okta
 * client with a 1 MiB page cap, the DuckDB writer, a local lake): a page Okta (or a proxy) sends far
 * larger than the cap is abandoned at the cap and fetched again; one that stays oversize through
 * every attempt fails the run, and the next run resumes at that same page. Every served uuid ends
 * in the lake exactly once, with `raw` byte for byte what Okta served.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runIngest } from '../../lib/core/ingest/ingest';
import { OktaRequestError, OktaResponseTooLargeError } from '../../lib/core/okta/errors';
import { lakeSuite } from './lake-suite';
import { MINUTE, T0, expectExactLake, type Scenario, type World } from './support';

const SINCE = T0 + 20 * MINUTE;
const MIB = 1024 * 1024;
/** Each oversize page: the page's events padded to 16 MiB. */
const OVERSIZE = 16 * MIB;

describe('oversize pages on the real pieces', () => {
  let sc: Scenario;
  let world: World;
  let expected: string[];
  // 600 events, one every 11 s (to 01:50); 50-event pages; windows of an hour from 00:20.
  const { lake } = lakeSuite('oversize', { sinceMs: SINCE, mock: { oversizeBodyBytes: OVERSIZE }, client: { maxPageBytes: MIB, maxAttempts: 3 } }, (s) => ({ sc, world, expected } = s));

  afterEach(() => {
    world.mock.faults.nextOversize = 0;
  });

  it('abandons two oversize pages at the cap, fetches them again, and stores every event once', async () => {
    // Prepare: the 2nd and the 5th request of the run are answered with 16 MiB pages
    const { sink, options } = await lake();
    const before = { ...world.client.stats.retries };
    const sentBefore = world.mock.stats.oversizeBytesSent;
    let n = 0;
    world.setLogHook(() => (++n === 2 || n === 5 ? 'oversize' : undefined));
    // Act
    const result = await runIngest(options('oversize-retried'));
    // Assess: both oversize pages were cut short (the mock could write little more than the cap)...
    expect(result.outcome).toBe('caught-up');
    expect(world.client.stats.retries['response-too-large'] - before['response-too-large']).toBe(2);
    expect(world.mock.stats.oversizeBodiesCompleted).toBe(0);
    const sent = world.mock.stats.oversizeBytesSent - sentBefore;
    expect(sent).toBeGreaterThanOrEqual(2 * MIB);
    expect(sent).toBeLessThan(OVERSIZE);
    // ...and the lake holds each event once, raw byte for byte.
    await expectExactLake(sink, expected, sc.texts);
  });

  it('a page oversize on every attempt fails the run with OktaResponseTooLargeError; the next run resumes at that page', async () => {
    // Prepare: from the 3rd request on, every request for the same page URL is answered oversize
    const { sink, options } = await lake();
    const urls: string[] = [];
    let doomed: string | undefined;
    world.setLogHook(({ url }) => {
      urls.push(url.toString());
      if (urls.length === 3) doomed = url.toString();
      return doomed !== undefined && url.toString() === doomed ? 'oversize' : undefined;
    });
    // Act
    const failed = await runIngest(options('oversize-exhausted')).catch((e: unknown) => e);
    const failedRequests = urls.length;
    world.setLogHook(({ url }) => {
      urls.push(url.toString());
      return undefined;
    });
    const resumed = await runIngest(options('oversize-resumed'));
    // Assess: the run failed on that page after 3 attempts, without storing a partial page...
    expect(failed instanceof OktaRequestError, 'the run failed with OktaRequestError').toBe(true);
    expect((failed as OktaRequestError).attempts).toBe(3);
    const cause = (failed as OktaRequestError).cause as OktaResponseTooLargeError;
    expect(cause).toBeInstanceOf(OktaResponseTooLargeError);
    expect(cause.maxBytes).toBe(MIB);
    expect(cause.bytesRead).toBeLessThan(2 * MIB);
    expect(new URL(cause.url).searchParams.get('after')).toBe(new URL(doomed!).searchParams.get('after'));
    // ...the next run's first request is that same page...
    expect(urls[failedRequests]).toBe(doomed);
    expect(resumed.outcome).toBe('caught-up');
    // ...and the lake holds each event once.
    await expectExactLake(sink, expected, sc.texts);
  });
});
