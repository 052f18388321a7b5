-- What dim_borrowers says borrowers borrowed (amounts of disbursed loans) equals the ledger's
-- originations: the disbursement postings to loan_principal.
with borrowed as (
    select coalesce(sum(borrowed_cents), 0) as borrowed_cents
    from {{ ref('dim_borrowers') }}
),

originated as (
    select coalesce(sum(amount_cents), 0) as originated_cents
    from {{ ref('int_ledger_entries_joined') }}
    where account_type = 'loan_principal' and transaction_kind = 'disbursement'
)

select borrowed.borrowed_cents, originated.originated_cents
from borrowed
cross join originated
where borrowed.borrowed_cents <> originated.originated_cents
