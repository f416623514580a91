/**
 * The set-up shared by the Okta client tests that run against the mock Okta on loopback
 * (client, bounded-body): servers stopped after each test, a mock on a manual clock with one API
 * token, and an SSWS client on the loopback origin with fast retries.
 */
import { afterEach } from 'vitest';
import { OktaLogClient, type OktaLogClientOptions } from '../../lib/core/okta/client';
import { SswsToken } from '../../lib/core/okta/credentials';
import { parseOrg } from '../../lib/core/okta/org';
import { startMockOkta, type MockOkta, type MockOktaOptions } from '../../lib/mock-okta/server';
import { ManualClock } from '../../testkit/clock';

/** Registers an `afterEach` that runs (and forgets) each stop pushed during the test. */
export function stopsAfterEach(): (() => Promise<void>)[] {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((s) => s()));
  });
  return stops;
}

/** Starts mock Okta servers accepting `apiToken`, each on a fresh manual clock at `nowMs`, each stopped after its test. */
export function mockStarter(stops: (() => Promise<void>)[], apiToken: string, nowMs: number): (options?: Partial<MockOktaOptions>) => Promise<MockOkta> {
  return async (options = {}) => {
    const m = await startMockOkta({ apiToken, clock: new ManualClock(nowMs), ...options });
    stops.push(() => m.stop());
    return m;
  };
}

/** An SSWS client of the loopback `origin`: 1-5 ms backoff, no rate-limit jitter, a 5 s request timeout unless `options` says otherwise. */
export function loopbackClient(origin: string, apiToken: string, options: Partial<OktaLogClientOptions> = {}): OktaLogClient {
  return new OktaLogClient({
    org: parseOrg(origin, { allowInsecureLoopback: true }),
    credentials: new SswsToken(apiToken),
    backoffBaseMs: 1,
    backoffCapMs: 5,
    rateLimitJitterMs: 0,
    requestTimeoutMs: 5_000,
    ...options,
  });
}
