select
    cast(event_id as bigint) as event_id,
    cast(loan_id as bigint) as loan_id,
    cast(event as varchar) as event,
    cast(from_status as varchar) as from_status,
    cast(to_status as varchar) as to_status,
    cast(actor_type as varchar) as actor_type,
    cast(actor_user_id as bigint) as actor_user_id,
    cast(occurred_at as timestamp) as occurred_at
from {{ source('raw', 'loan_events') }}
