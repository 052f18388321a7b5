-- Double entry: every transaction's postings sum to zero (and so does the whole ledger).
-- On an incremental build only the transactions with a posting past the published build's mark are summed
-- (published_mark: a transaction's postings are written together and never change, so one summed to zero
-- by a published build still does); the whole ledger's total is always checked (one column sum).
{% set floor = published_mark('ledger_entries') %}
select transaction_id, sum(amount_cents) as total_cents
from {{ ref('stg_ledger_entries') }}
{% if floor is not none %}
where transaction_id in (select transaction_id from {{ ref('stg_ledger_entries') }} where entry_id > {{ floor }})
{% endif %}
group by transaction_id
having sum(amount_cents) <> 0

union all

select null as transaction_id, sum(amount_cents) as total_cents
from {{ ref('stg_ledger_entries') }}
having coalesce(sum(amount_cents), 0) <> 0
