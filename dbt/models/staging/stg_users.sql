select
    cast(user_id as bigint) as user_id,
    cast(username as varchar) as username,
    cast(role as varchar) as role,
    cast(verified_at as timestamp) as verified_at,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ source('raw', 'users') }}
