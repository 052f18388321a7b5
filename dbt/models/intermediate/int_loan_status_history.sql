-- Every status each loan entered and when, exactly as the API's lifecycle recorded it (stg_loan_events,
-- append-only; revision 0004 backfilled the history of older loans from their timestamps). One row per
-- event.
select
    cast(event_id as bigint) as event_id,
    cast(loan_id as bigint) as loan_id,
    cast(to_status as varchar) as status,
    cast(occurred_at as timestamp) as entered_at,
    cast(event as varchar) as observed_by,
    cast(from_status as varchar) as previous_status
from {{ ref('stg_loan_events') }}
