-- marts.int_usage_days: a fingerprint of each day of raw product usage — its rows, and the sum of
-- the rows' hashes, which no order of the rows changes. The next night's build compares these
-- with its own (loaders/refresh.ts): a day whose rows are all the same as last night is not
-- aggregated again, so a nightly run aggregates the days that arrived or changed, not the whole
-- history. Every build writes them, so the build after a full one can refresh.
CREATE OR REPLACE TABLE marts.int_usage_days AS
SELECT event_date, count(*) AS "rows", sum(hash(u)::HUGEINT) AS fingerprint
FROM raw.usage_events u
GROUP BY event_date
ORDER BY event_date;
