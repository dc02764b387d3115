-- Each CSM's week against their CTAs (marts.mart_csm_worklist), and where to rebalance overflow.
--
--   hours_queued    the individual queue: this week's CTAs and those kept for later ("next")
--   overload_hours  what of it exceeds the week
--   room_hours      for a CSM without overload: the hours of the week not held by CTAs that must
--                   stay (Critical or in progress). They can take another CSM's overflow there,
--                   handing their own lower-value CTAs to next week or the digest.
--
-- The rebalancing suggestion is a simple greedy over hours, not CTAs: lay the overloaded CSMs'
-- overflow end to end, most overloaded first, and the receivers' room end to end, most room
-- first, and match the two lines — the most overloaded CSM's overflow goes to the CSMs with the
-- most room, the next one's to the room left after them, and so on. A receiver is never offered
-- more than its room; overflow beyond the team's room is left where it is (overload_after_hours).
CREATE OR REPLACE TABLE marts.mart_csm_capacity AS
WITH per_csm AS (
  SELECT c.csm, c.capacity_hours, c.capacity_source,
         count(w.cta_id) AS ctas_open,
         coalesce(sum(w.effort_hours), 0) AS hours_open,
         count(w.cta_id) FILTER (WHERE w.lane = 'this_week') AS ctas_this_week,
         -- the running total the worklist compared with the capacity (this week's CTAs are a prefix of the kept ones)
         coalesce(max(w.queued_hours_up_to) FILTER (WHERE w.lane = 'this_week'), 0) AS hours_this_week,
         count(w.cta_id) FILTER (WHERE w.lane = 'next') AS ctas_next,
         coalesce(sum(w.effort_hours) FILTER (WHERE w.lane = 'next'), 0) AS hours_next,
         count(w.cta_id) FILTER (WHERE w.lane = 'digest') AS ctas_digest,
         coalesce(sum(w.effort_hours) FILTER (WHERE w.lane = 'digest'), 0) AS hours_digest,
         coalesce(sum(w.effort_hours) FILTER (WHERE w.lane <> 'digest' AND (w.priority = 'critical' OR w.status = 'in_progress')), 0) AS must_keep_hours,
         min(w.value_per_hour) FILTER (WHERE w.lane <> 'digest') AS queue_min_value_per_hour,
         max(w.value_per_hour) FILTER (WHERE w.lane = 'digest') AS digest_max_value_per_hour,
         coalesce(sum(w.expected_arr_saved) FILTER (WHERE w.lane = 'this_week'), 0) AS expected_arr_saved_this_week
  FROM int_csm_capacity c
  LEFT JOIN marts.mart_csm_worklist w ON w.owner = c.csm
  GROUP BY ALL
),
sized AS (
  SELECT *,
         hours_this_week + hours_next AS hours_queued,
         greatest(hours_this_week + hours_next - capacity_hours, 0) AS overload_hours,
         CASE WHEN hours_this_week + hours_next <= capacity_hours THEN greatest(capacity_hours - must_keep_hours, 0) ELSE 0 END AS room_hours
  FROM per_csm
),
givers AS (
  SELECT csm, sum(overload_hours) OVER (ORDER BY overload_hours DESC, csm ROWS UNBOUNDED PRECEDING) AS upto, overload_hours AS hours
  FROM sized WHERE overload_hours > 0
),
receivers AS (
  SELECT csm, sum(room_hours) OVER (ORDER BY room_hours DESC, csm ROWS UNBOUNDED PRECEDING) AS upto, room_hours AS hours
  FROM sized WHERE room_hours > 0
),
moves AS (
  -- the overlap of a giver's stretch of the overflow line with a receiver's stretch of the room line
  SELECT g.csm AS giver, r.csm AS receiver, least(g.upto, r.upto) - greatest(g.upto - g.hours, r.upto - r.hours) AS hours
  FROM givers g JOIN receivers r ON r.upto - r.hours < g.upto AND g.upto - g.hours < r.upto
  WHERE least(g.upto, r.upto) - greatest(g.upto - g.hours, r.upto - r.hours) > 1e-9  -- not a rounding error's sliver
),
moved_out AS (
  SELECT giver AS csm, sum(hours) AS move_out_hours,
         list({'csm': receiver, 'hours': hours} ORDER BY hours DESC, receiver) AS rebalance_to
  FROM moves GROUP BY giver
),
moved_in AS (
  SELECT receiver AS csm, sum(hours) AS receive_hours,
         list({'csm': giver, 'hours': hours} ORDER BY hours DESC, giver) AS rebalance_from
  FROM moves GROUP BY receiver
)
SELECT
  s.csm, s.capacity_hours, s.capacity_source,
  s.ctas_open, s.hours_open,
  s.ctas_this_week, s.hours_this_week, s.ctas_next, s.hours_next, s.ctas_digest, s.hours_digest,
  s.hours_queued,
  -- ≥ 0 by construction: this week's CTAs fit the week (a data-quality check holds it)
  s.capacity_hours - s.hours_this_week AS week_left_hours,
  s.overload_hours, s.must_keep_hours, s.room_hours,
  s.queue_min_value_per_hour, s.digest_max_value_per_hour,
  -- ≥ 0 by construction: no digested CTA is worth more per hour than one the CSM keeps (checked)
  s.queue_min_value_per_hour - s.digest_max_value_per_hour AS digest_value_gap,
  s.expected_arr_saved_this_week,
  -- the receiver offered the most of this CSM's overflow
  coalesce(o.move_out_hours, 0) AS move_out_hours, o.rebalance_to[1].csm AS suggested_receiver, o.rebalance_to,
  coalesce(i.receive_hours, 0) AS receive_hours, i.rebalance_from,
  greatest(s.overload_hours - coalesce(o.move_out_hours, 0), 0) AS overload_after_hours
FROM sized s
LEFT JOIN moved_out o USING (csm)
LEFT JOIN moved_in i USING (csm)
ORDER BY s.overload_hours DESC, s.csm;
