-- Every status each loan entered and when (int_loan_status_history): the API's lifecycle events one for
-- one. Transitions are consecutive rows per loan in event_id order (previous_status -> status).
select
    cast(event_id as bigint) as event_id,
    cast(loan_id as bigint) as loan_id,
    cast(status as varchar) as status,
    cast(previous_status as varchar) as previous_status,
    cast(entered_at as timestamp) as entered_at,
    cast(observed_by as varchar) as observed_by
from {{ ref('int_loan_status_history') }}
