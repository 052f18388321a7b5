select
    cast(investor_id as bigint) as investor_id,
    cast(user_id as bigint) as user_id,
    cast(username as varchar) as username,
    cast(created_at as timestamp) as created_at
from {{ source('raw', 'investors') }}
