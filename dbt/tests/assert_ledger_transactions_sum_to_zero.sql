-- Double entry: every transaction's postings sum to zero (and so does the whole ledger).
select transaction_id, sum(amount_cents) as total_cents
from {{ ref('stg_ledger_entries') }}
group by transaction_id
having sum(amount_cents) <> 0

union all

select null as transaction_id, sum(amount_cents) as total_cents
from {{ ref('stg_ledger_entries') }}
having coalesce(sum(amount_cents), 0) <> 0
