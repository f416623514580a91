/**
 * `okta-lake mock-okta`: serves a file of events with Okta's `/api/v1/logs` semantics on loopback,
 * so `okta-lake ingest` (or any Okta log collector) can be tried without an Okta org.
 */
import { randomBytes, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadMockEventsFromFile, startMockOkta, type MockFaultPlan, type MockOAuthClient } from '../mock-okta';
import { UsageError, optionalString, parse, parseNumber, requireString } from './args';
import { EXIT, formatCount } from './output';

export const MOCK_OKTA_HELP = `Usage: okta-lake mock-okta --events <file.json | file.jsonl> [--port <n>] [options]

Serves the events with Okta's System Log semantics on 127.0.0.1: bounded queries by published
(since inclusive, until exclusive), Link pagination with opaque cursors, X-Rate-Limit-* headers
and 429s when the per-minute budget runs out, and faults injected on request.

Options:
  --events <file>          events to serve: a JSON array or one event per line (served byte for byte)
  --port <n>               port on 127.0.0.1 (default: any free port, printed)
  --rate-limit <n>         requests per minute before 429 (default 120): the org's bucket
  --client-share <f>       share of the bucket one API token or OAuth app may use, 0 < f <= 1
                           (default 0.5, Okta's default per-token/app limit)
  --retention-days <n>     events older than this are not returned (default 90, as on Okta)
  --latency <ms>           delay before each page (default 0)
  --fail-5xx <n>           answer the next n log requests with HTTP 500 (E0000053)
  --timeout-wider-than <ms>
                           answer every bounded query wider than this with HTTP 500 E0000009
                           (the query took too long): a client must narrow the window
  --fail-429 <n>           answer the next n log requests with HTTP 429
  --fail-resets <n>        reset the connection of the next n log requests
  --fail-stalls <n>        never answer the next n log requests
  --fail-truncated <n>     send half a page for the next n log requests
  --fail-malformed <n>     send the next n pages whole but as invalid JSON (a trailing comma)
  --empty-pages-with-next <n>
                           answer the next n log requests with an empty page that still has a
                           next link (Okta only promises that the last page has none)
  --foreign-next-link      point rel="next" links at another host (a client must refuse them)
  --fail-oversize <n>      answer the next n log requests with an oversize page: the page's events
                           padded with white space to --oversize-mib, streamed without a length
                           (a client must stop reading at its cap and retry)
  --oversize-mib <n>       size of an oversize page in MiB (default 64)
  --oversize-chunk-delay <ms>
                           pause between the 64 KiB writes of an oversize page (default 0)
  --require-dpop           the OAuth service app requires DPoP (RFC 9449), as new Okta API
                           Services apps do: proofs with nonces, tokens of type DPoP bound to the key

Authentication: requests must carry "SSWS $OKTA_API_TOKEN". When OKTA_API_TOKEN is not set, a
random token is made and printed. OAuth: set OKTA_CLIENT_ID and OKTA_PUBLIC_KEY_FILE (PEM or
JWK) to accept private_key_jwt client credentials for that service app.

Runs until interrupted (Ctrl-C).`;

export async function mockOktaCommand(
  argv: readonly string[],
  io: { env: NodeJS.ProcessEnv; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; signal?: AbortSignal },
): Promise<number> {
  const { values } = parse(argv, {
    events: { type: 'string' },
    port: { type: 'string' },
    'rate-limit': { type: 'string' },
    'client-share': { type: 'string' },
    'retention-days': { type: 'string' },
    latency: { type: 'string' },
    'fail-5xx': { type: 'string' },
    'timeout-wider-than': { type: 'string' },
    'fail-429': { type: 'string' },
    'fail-resets': { type: 'string' },
    'fail-stalls': { type: 'string' },
    'fail-truncated': { type: 'string' },
    'fail-malformed': { type: 'string' },
    'empty-pages-with-next': { type: 'string' },
    'foreign-next-link': { type: 'boolean' },
    'fail-oversize': { type: 'string' },
    'oversize-mib': { type: 'string' },
    'oversize-chunk-delay': { type: 'string' },
    'require-dpop': { type: 'boolean' },
  });
  if (values.help) {
    io.stdout.write(`${MOCK_OKTA_HELP}\n`);
    return EXIT.ok;
  }
  const count = (flag: string): number => {
    const v = optionalString(values, flag);
    return v === undefined ? 0 : parseNumber(v, `--${flag}`, 0, 1_000_000, true);
  };
  const file = requireString(values, 'events');
  const port = optionalString(values, 'port');
  const rate = optionalString(values, 'rate-limit');
  const latency = optionalString(values, 'latency');
  const timeoutWider = optionalString(values, 'timeout-wider-than');
  const share = optionalString(values, 'client-share');
  const retention = optionalString(values, 'retention-days');
  const oversizeMib = optionalString(values, 'oversize-mib');
  const oversizeDelay = optionalString(values, 'oversize-chunk-delay');
  const faults: Partial<MockFaultPlan> = {
    next5xx: count('fail-5xx'),
    next429: count('fail-429'),
    nextResets: count('fail-resets'),
    nextStalls: count('fail-stalls'),
    nextTruncated: count('fail-truncated'),
    nextMalformed: count('fail-malformed'),
    nextEmptyWithNext: count('empty-pages-with-next'),
    nextOversize: count('fail-oversize'),
    foreignNextLink: values['foreign-next-link'] === true,
  };

  const generated = io.env.OKTA_API_TOKEN ? undefined : randomBytes(24).toString('base64url');
  const apiToken = io.env.OKTA_API_TOKEN ?? generated;
  const oauthClients: MockOAuthClient[] = [];
  if (io.env.OKTA_CLIENT_ID || io.env.OKTA_PUBLIC_KEY_FILE) {
    if (!io.env.OKTA_CLIENT_ID || !io.env.OKTA_PUBLIC_KEY_FILE) throw new UsageError('OAuth needs both OKTA_CLIENT_ID and OKTA_PUBLIC_KEY_FILE');
    let key: string;
    try {
      key = readFileSync(io.env.OKTA_PUBLIC_KEY_FILE, 'utf8');
    } catch (cause) {
      throw new UsageError(`cannot read OKTA_PUBLIC_KEY_FILE (${io.env.OKTA_PUBLIC_KEY_FILE})`, { cause });
    }
    oauthClients.push({ clientId: io.env.OKTA_CLIENT_ID, publicKeys: [key.trim().startsWith('{') ? (JSON.parse(key) as JsonWebKey) : key] });
  }

  const events = await loadMockEventsFromFile(file);
  const mock = await startMockOkta({
    events,
    port: port ? parseNumber(port, '--port', 0, 65_535, true) : 0,
    apiToken,
    oauthClients,
    rateLimitPerMinute: rate ? parseNumber(rate, '--rate-limit', 1, 1_000_000, true) : undefined,
    latencyMs: latency ? parseNumber(latency, '--latency', 0, 600_000, true) : undefined,
    queryTimeoutWiderThanMs: timeoutWider ? parseNumber(timeoutWider, '--timeout-wider-than', 1, 31_536_000_000, true) : undefined,
    clientShare: share ? parseNumber(share, '--client-share', 0.001, 1, false) : undefined,
    retentionDays: retention ? parseNumber(retention, '--retention-days', 1, 100_000, true) : undefined,
    oversizeBodyBytes: oversizeMib ? parseNumber(oversizeMib, '--oversize-mib', 1, 16_384, true) * 1024 * 1024 : undefined,
    oversizeChunkDelayMs: oversizeDelay ? parseNumber(oversizeDelay, '--oversize-chunk-delay', 0, 60_000, true) : undefined,
    faults,
    requireDpop: values['require-dpop'] === true,
  });
  io.stderr.write(`mock Okta serving ${formatCount(events.length)} events at ${mock.origin}\n`);
  if (generated) io.stderr.write(`accepting a generated API token; to ingest from it run:\n  export OKTA_API_TOKEN=${generated}\n`);
  io.stderr.write(`try: okta-lake ingest --org ${mock.origin} --out ./lake --since 90d\n`);
  io.stdout.write(`${mock.origin}\n`);

  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) return resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  const s = mock.stats;
  await mock.stop();
  io.stderr.write(`mock Okta stopped: ${formatCount(s.logRequests)} log requests, ${formatCount(s.pagesServed)} pages, ${formatCount(s.eventsServed)} events served, ${formatCount(s.rateLimited)} answered 429\n`);
  return EXIT.ok;
}
