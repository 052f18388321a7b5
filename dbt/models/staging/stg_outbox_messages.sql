select
    cast(message_id as bigint) as message_id,
    cast(channel as varchar) as channel,
    cast(event as varchar) as event,
    cast(user_id as bigint) as user_id,
    cast(loan_id as bigint) as loan_id,
    cast(subscription_id as bigint) as subscription_id,
    cast(state as varchar) as state,
    cast(attempts as integer) as attempts,
    cast(next_attempt_at as timestamp) as next_attempt_at,
    cast(created_at as timestamp) as created_at,
    cast(sent_at as timestamp) as sent_at
from {{ source('raw', 'outbox_messages') }}
