/**
 * Vitest global setup: makes sure S3 and DynamoDB emulators are running on loopback for the whole run,
 * and fixes the environment so that no AWS SDK call can leave the machine.
 */
import type { TestProject } from 'vitest/node';
import { startDynalite, startS3rver, type Emulator } from './emulators';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    dynamodbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started: Emulator[] = [];
  let s3 = process.env.OKTA_LAKE_TEST_S3_ENDPOINT;
  let ddb = process.env.OKTA_LAKE_TEST_DYNAMODB_ENDPOINT;
  if (!s3) {
    const e = await startS3rver();
    started.push(e);
    s3 = e.endpoint;
  }
  if (!ddb) {
    const e = await startDynalite();
    started.push(e);
    ddb = e.endpoint;
  }
  project.provide('s3Endpoint', s3);
  project.provide('dynamodbEndpoint', ddb);
  return async () => {
    await Promise.all(started.map((e) => e.stop()));
  };
}
