-- Each loan's ledger balances: principal still owed, interest paid through, collections not yet distributed,
-- and the principal originated (the disbursement).
-- The balances are sums of each loan account's postings, which fct_ledger_account_balances already holds per
-- account (kept incrementally), so they are summed over the loan's few accounts rather than over every
-- posting; only the disbursements are read from the postings. One row per loan with any posting.
with accounts as (
    select
        loan_id,
        cast(sum(case when account_type = 'loan_principal' then posted_balance_cents else 0 end) as bigint)
            as outstanding_principal_cents,
        cast(sum(case when account_type = 'loan_interest' then posted_balance_cents else 0 end) as bigint)
            as interest_paid_cents,
        cast(-sum(case when account_type = 'loan_collections' then posted_balance_cents else 0 end) as bigint)
            as undistributed_collections_cents
    from {{ ref('fct_ledger_account_balances') }}
    where loan_id is not null
    group by loan_id
    having sum(postings_count) > 0
),

originated as (
    select loan_id, sum(amount_cents) as originated_cents
    from {{ ref('int_ledger_entries_joined') }}
    where loan_id is not null and account_type = 'loan_principal' and transaction_kind = 'disbursement'
    group by loan_id
)

select
    accounts.loan_id,
    accounts.outstanding_principal_cents,
    accounts.interest_paid_cents,
    accounts.undistributed_collections_cents,
    cast(coalesce(originated.originated_cents, 0) as bigint) as originated_cents
from accounts
left join originated on accounts.loan_id = originated.loan_id
