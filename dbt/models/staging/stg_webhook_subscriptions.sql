select
    cast(subscription_id as bigint) as subscription_id,
    cast(user_id as bigint) as user_id,
    cast(events as varchar) as events,
    cast(created_at as timestamp) as created_at,
    cast(disabled_at as timestamp) as disabled_at
from {{ source('raw', 'webhook_subscriptions') }}
