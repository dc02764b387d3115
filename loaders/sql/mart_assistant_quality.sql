-- The CSM assistant's quality per ISO week (its Monday) × generator (llm, builtin) × audience (csm,
-- executive): summaries and answers made, how many passed every guardrail, the CSMs' ratings of
-- them (one per person per summary) and how many said "accurate". Read from the operational store
-- once per build (loaders/assistant-quality.ts → ops.assistant_quality), so the Model quality page is
-- built from the warehouse. A rating counts in the week its summary was made. A backfill of an older
-- date shows no week after it. The rates are NULL where there is nothing to divide: no summary made
-- or nobody rated yet — not 0, which would read as "all wrong".
CREATE OR REPLACE TABLE marts.mart_assistant_quality AS
SELECT CAST(week AS DATE) AS week, generator, audience, made, guardrail_passed, rated, accurate,
       guardrail_passed / nullif(made, 0) AS guardrail_pass_share,
       accurate / nullif(rated, 0) AS accuracy
FROM ops.assistant_quality
WHERE CAST(week AS DATE) <= getvariable('as_of')
ORDER BY week, generator, audience
