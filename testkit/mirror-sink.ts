/**
 * A lake sink that also writes every object it stores into a second sink (a local folder), after
 * the first accepted it: the soak on S3 gives DuckDB (which reads no S3 here) a folder holding
 * exactly the objects the bucket holds, for the detections it runs in the loop. Listing and reading
 * go to the first sink only, so the ingestion, the sweep and the audit see the bucket.
 */
import type { LakeSink } from '../lib/core/ports';

export function mirroredSink(primary: LakeSink, mirror: LakeSink): LakeSink {
  return {
    location: primary.location,
    put: async (key, body, contentType) => {
      await primary.put(key, body, contentType);
      await mirror.put(key, body, contentType);
    },
    list: (prefix) => primary.list(prefix),
    get: (key) => primary.get(key),
  };
}
