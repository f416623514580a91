/**
 * Benchmark helper process: generates `count` realistic events and serves them with the mock Okta,
 * so the ingest being measured runs in another process and its memory is its own.
 * Usage: tsx bench/mock-child.ts <count> <latencyMs> <startIso> <hours> <token>
 * Prints the mock's origin on stdout, then serves until stdin closes.
 */
import { generateEvents } from '../lib/demo/generate';
import { mockEventsFromTexts, startMockOkta } from '../lib/mock-okta';

const [count, latency, start, hours, token] = process.argv.slice(2);
const texts = generateEvents(Number(count), { start: new Date(start), hours: Number(hours), seed: 11 }).map((e) => JSON.stringify(e));
const jsonBytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
const mock = await startMockOkta({ events: mockEventsFromTexts(texts), apiToken: token, latencyMs: Number(latency), rateLimitPerMinute: 100_000 });
process.stdout.write(`${JSON.stringify({ origin: mock.origin, events: texts.length, jsonBytes })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void mock.stop().then(() => process.exit(0)));
