select
    cast(run_id as bigint) as run_id,
    cast("trigger" as varchar) as trigger,
    cast(actor_user_id as bigint) as actor_user_id,
    cast(seed as bigint) as seed,
    cast(rounds as integer) as rounds,
    cast(listings as integer) as listings,
    cast(rules as integer) as rules,
    cast(notes as integer) as notes,
    cast(amount_cents as bigint) as amount_cents,
    cast(started_at as timestamp) as started_at,
    cast(finished_at as timestamp) as finished_at
from {{ source('raw', 'allocation_runs') }}
