select
    cast(transfer_id as bigint) as transfer_id,
    cast(user_id as bigint) as user_id,
    cast(direction as varchar) as direction,
    cast(amount_cents as bigint) as amount_cents,
    cast(processor_reference as varchar) as processor_reference,
    cast(created_at as timestamp) as created_at
from {{ source('raw', 'cash_transfers') }}
