/**
 * Every query file as an Athena named query in the workgroup: the console's saved queries, and what
 * the detection runner fetches and runs. The SQL is the file's text, loaded at synth time.
 */
import * as athena from 'aws-cdk-lib/aws-athena';
import type { Construct } from 'constructs';
import { basename } from 'node:path';
import type { QueryDefinition } from '../../core/queries';
import type { Catalog } from '../catalog';
import { DetectionDeploymentError } from './errors';

/** Athena refuses a named query whose text is longer (bytes). */
export const NAMED_QUERY_MAX_BYTES = 262_144;
/** Athena limits of a named query's name and description (characters). */
export const NAMED_QUERY_NAME_MAX = 128;
export const NAMED_QUERY_DESCRIPTION_MAX = 1024;

/** What the console shows next to the name: title, kind, severity and schedule. */
export function namedQueryDescription(q: QueryDefinition): string {
  const when = q.schedule ? `scheduled ${q.schedule}` : 'not scheduled';
  const text = `${q.title} (${q.kind}, severity ${q.severity}, ${when}, lookback ${q.lookback})`;
  return text.length > NAMED_QUERY_DESCRIPTION_MAX ? `${text.slice(0, NAMED_QUERY_DESCRIPTION_MAX - 3)}...` : text;
}

/**
 * One named query per query file, created in `scope` as `Query-<id>`, by query id. A file whose id
 * or text Athena would refuse, or whose id another file uses, fails synth by name.
 */
export function createNamedQueries(scope: Construct, queries: readonly QueryDefinition[], catalog: Catalog): Map<string, athena.CfnNamedQuery> {
  const namedQueries = new Map<string, athena.CfnNamedQuery>();
  for (const q of queries) {
    if (q.id.length > NAMED_QUERY_NAME_MAX) {
      throw new DetectionDeploymentError(`${basename(q.file)}: the query id is ${q.id.length} characters; an Athena named query name has at most ${NAMED_QUERY_NAME_MAX}`);
    }
    const bytes = Buffer.byteLength(q.sql, 'utf8');
    if (bytes > NAMED_QUERY_MAX_BYTES) {
      throw new DetectionDeploymentError(`${basename(q.file)}: the query is ${bytes} bytes; an Athena named query holds at most ${NAMED_QUERY_MAX_BYTES}`);
    }
    if (namedQueries.has(q.id)) throw new DetectionDeploymentError(`${basename(q.file)}: query id "${q.id}" is used by two files`);
    const named = new athena.CfnNamedQuery(scope, `Query-${q.id}`, {
      name: q.id,
      description: namedQueryDescription(q),
      database: catalog.databaseName,
      workGroup: catalog.workGroupName,
      queryString: q.sql,
    });
    // Database and workgroup are named, not referenced: order the creation explicitly.
    named.node.addDependency(catalog.workGroup);
    named.node.addDependency(catalog.database);
    namedQueries.set(q.id, named);
  }
  return namedQueries;
}
