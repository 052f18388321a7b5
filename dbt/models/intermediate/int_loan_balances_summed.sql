-- Each loan's ledger balances: principal still owed, interest paid through, collections not yet distributed,
-- and the principal originated (the disbursement).
select
    loan_id,
    cast(sum(case when account_type = 'loan_principal' then amount_cents else 0 end) as bigint)
        as outstanding_principal_cents,
    cast(sum(case when account_type = 'loan_interest' then amount_cents else 0 end) as bigint)
        as interest_paid_cents,
    cast(-sum(case when account_type = 'loan_collections' then amount_cents else 0 end) as bigint)
        as undistributed_collections_cents,
    cast(sum(
        case when account_type = 'loan_principal' and transaction_kind = 'disbursement' then amount_cents else 0 end
    ) as bigint) as originated_cents
from {{ ref('int_ledger_entries_joined') }}
where loan_id is not null
group by loan_id
