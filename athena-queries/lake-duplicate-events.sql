-- id: lake-duplicate-events
-- title: Events the lake holds more than once
-- kind: hunt
-- severity: info
-- schedule: none
-- lookback: 7d
-- mitre: none
-- finding_key: org, event_uuid
-- description: Every Okta event (uuid) of the last 7 days that has more than one row in the lake:
--   how many rows, the dt/hour partitions they are in, when they were written (ingested_at) and
--   published, and the event type. okta-lake promises each event exactly once (the lake is
--   write-once; a page retried after a crash, the reconciliation sweep and import add only uuids
--   the lake does not hold), so any row here is a broken promise, never normal operation. Queries that count rows (events-per-hour, event-type-overview, the failure count of
--   brute-force-lockout) are off by the extra rows. Elements the writer quarantined (not an
--   object, no uuid, no usable published time, invalid Unicode) are in quarantine/, not in this
--   table, and cannot appear here. Reads only uuid, published, ingested_at, eventType and the
--   partition columns, never raw.
-- runbook: Report each uuid as a bug, with its partitions and its first and last ingested_at. The
--   ingested_at times tell which runs wrote the copies (the ingestion and sweep logs of those times
--   name the windows and objects they wrote): two different times are two writes (for example two
--   runs reading overlapping windows, or a sweep adding an event the lake already held); one time
--   in two partitions is one write copied, for example a file copied or restored into another
--   partition by hand. Differing first and last published times mean the rows disagree on when the
--   event happened: two records under one uuid, not one event stored twice. In the Athena console,
--   adding "$path" to the selection shows the objects. The sweep's duplicatesFound count and
--   warning cover only the windows it re-reads; this query covers any period. The lake is
--   write-once and nothing removes a copy: an object can also hold events that exist only there.
--   Compaction keeps one row of copies with the same raw text and refuses a day whose copies
--   differ (docs/compaction.md).
WITH recent AS (
  SELECT org, uuid, published, ingested_at, eventType AS event_type, dt, hour
  FROM okta_system_log
  WHERE dt >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y-%m-%d')
    AND published >= current_timestamp - INTERVAL '7' DAY
    AND published <= current_timestamp
)
SELECT
  org,
  uuid AS event_uuid,
  count(*) AS copies,
  array_join(array_sort(array_agg(DISTINCT 'dt=' || dt || '/hour=' || hour)), ', ') AS partitions,
  min(ingested_at) AS first_ingested_at,
  max(ingested_at) AS last_ingested_at,
  min(published) AS first_published,
  max(published) AS last_published,
  array_join(array_sort(array_agg(DISTINCT event_type)), ', ') AS event_type,
  CAST(count(*) AS varchar) || ' rows of one ' || coalesce(min(event_type), 'event') || ' event, written '
    || date_format(min(ingested_at), '%Y-%m-%d %H:%i:%s') || ' to ' || date_format(max(ingested_at), '%Y-%m-%d %H:%i:%s')
    || ', in ' || CAST(count(DISTINCT dt || '/' || hour) AS varchar) || ' partition(s)' AS summary
FROM recent
GROUP BY org, uuid
HAVING count(*) > 1
ORDER BY org, max(ingested_at) DESC, min(published), uuid
