#!/usr/bin/env node
'use strict';
/**
 * The S3 emulator the tests and .ci/run start: s3rver, with S3's conditional writes added. s3rver
 * 3.7 ignores `If-None-Match` on PutObject; S3 honours `If-None-Match: *` by refusing to replace an
 * existing key with HTTP 412 PreconditionFailed
 * (docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). The lake is write-once
 * through that header, so the emulator must refuse as S3 does, or the tests would prove nothing.
 *
 * Usage: node --openssl-legacy-provider scripts/s3-emulator.cjs --directory <dir> --address <ip> --port <n>
 */
const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');

function argument(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0 || at + 1 >= process.argv.length) {
    if (fallback !== undefined) return fallback;
    console.error(`s3-emulator: --${name} is required`);
    process.exit(2);
  }
  return process.argv[at + 1];
}

const server = new S3rver({
  directory: argument('directory'),
  address: argument('address', '127.0.0.1'),
  port: Number(argument('port')),
  silent: true,
});

/** One conditional put of a key at a time, so that the existence check and the write are one step. */
const inFlight = new Map();

async function conditionalPut(ctx, next) {
  const condition = ctx.get('if-none-match');
  const isObjectPut = ctx.method === 'PUT' && condition !== '' && !('uploadId' in ctx.query) && !('partNumber' in ctx.query) && !ctx.get('x-amz-copy-source');
  if (!isObjectPut) return next();
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (!match) return next();
  if (condition !== '*') {
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: 'If-None-Match' });
  }
  const bucket = match[1];
  const key = decodeURIComponent(match[2]);
  const id = `${bucket}/${key}`;
  const previous = inFlight.get(id) ?? Promise.resolve();
  let release;
  const mine = new Promise((resolve) => (release = resolve));
  const chained = previous.then(() => mine);
  inFlight.set(id, chained);
  await previous;
  try {
    if (await ctx.store.existsObject(bucket, key)) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
    }
    await next();
  } finally {
    release();
    if (inFlight.get(id) === chained) inFlight.delete(id);
  }
}

// Before s3rver's router (the last middleware), after its path rewriting.
server.middleware.splice(server.middleware.length - 1, 0, conditionalPut);

server.run((error) => {
  if (error) {
    console.error(`s3-emulator: ${error.message}`);
    process.exit(1);
  }
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
