-- Each investor's ledger balances, shown on their normal (credit) side, so positive = the investor's money.
select
    investor_id,
    cast(-sum(case when account_type = 'investor_cash' then amount_cents else 0 end) as bigint) as cash_cents,
    cast(-sum(case when account_type = 'investor_commitments' then amount_cents else 0 end) as bigint)
        as committed_cents,
    cast(-sum(case when account_type = 'investor_notes' then amount_cents else 0 end) as bigint)
        as outstanding_principal_cents,
    cast(-sum(case when account_type = 'investor_interest_income' then amount_cents else 0 end) as bigint)
        as interest_received_cents
from {{ ref('int_ledger_entries_joined') }}
where investor_id is not null
group by investor_id
