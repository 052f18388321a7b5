select
    cast(notification_id as bigint) as notification_id,
    cast(user_id as bigint) as user_id,
    cast(kind as varchar) as kind,
    cast(loan_id as bigint) as loan_id,
    cast(message as varchar) as message,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at,
    cast(read_at as timestamp) as read_at
from {{ source('raw', 'notifications') }}
