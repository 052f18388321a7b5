-- Every ledger account's stored balance (kept by the API with each posting) equals the sum of its postings.
select account_id, account_type, owner_id, balance_cents, posted_balance_cents
from {{ ref('fct_ledger_account_balances') }}
where balance_cents <> posted_balance_cents
