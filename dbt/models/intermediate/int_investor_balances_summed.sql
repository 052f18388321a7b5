-- Each investor's ledger balances, shown on their normal (credit) side, so positive = the investor's money.
-- Sums of each investor account's postings, which fct_ledger_account_balances already holds per account (kept
-- incrementally): summed over the investor's few accounts rather than over every posting. One row per
-- investor with any posting.
select
    investor_id,
    cast(-sum(case when account_type = 'investor_cash' then posted_balance_cents else 0 end) as bigint) as cash_cents,
    cast(-sum(case when account_type = 'investor_commitments' then posted_balance_cents else 0 end) as bigint)
        as committed_cents,
    cast(-sum(case when account_type = 'investor_notes' then posted_balance_cents else 0 end) as bigint)
        as outstanding_principal_cents,
    cast(-sum(case when account_type = 'investor_interest_income' then posted_balance_cents else 0 end) as bigint)
        as interest_received_cents
from {{ ref('fct_ledger_account_balances') }}
where investor_id is not null
group by investor_id
having sum(postings_count) > 0
