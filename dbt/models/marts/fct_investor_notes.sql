-- One row per note (investment). Outstanding principal is what the note has lent out and not yet
-- got back: zero until the loan is disbursed (the money is still a commitment), then amount - principal received.
with investments as (
    select * from {{ ref('stg_investments') }}
),

loans as (
    select loan_id, grade, interest_rate_bps, status, disbursed_at from {{ ref('stg_loans') }}
),

received as (
    select * from {{ ref('int_investment_distributions_summed') }}
),

final as (
    select
        investments.investment_id,
        investments.investor_id,
        investments.loan_id,
        loans.grade,
        loans.interest_rate_bps,
        loans.status as loan_status,
        investments.amount_cents,
        coalesce(received.principal_received_cents, 0) as principal_received_cents,
        coalesce(received.interest_received_cents, 0) as interest_received_cents,
        -- a charge-off writes the note's outstanding principal off (stg_note_charge_offs, the ledger's
        -- charge_off postings to investor_notes)
        case
            when loans.disbursed_at is null then 0
            else investments.amount_cents - coalesce(received.principal_received_cents, 0)
                - coalesce(written_off.principal_cents, 0)
        end as outstanding_principal_cents,
        investments.invested_at
    from investments
    inner join loans on investments.loan_id = loans.loan_id
    left join received on investments.investment_id = received.investment_id
    left join {{ ref('stg_note_charge_offs') }} as written_off on investments.investment_id = written_off.investment_id
)

select
    cast(investment_id as bigint) as investment_id,
    cast(investor_id as bigint) as investor_id,
    cast(loan_id as bigint) as loan_id,
    cast(grade as varchar) as grade,
    {{ bps_to_percent('interest_rate_bps') }} as interest_rate,
    cast(loan_status as varchar) as loan_status,
    cast(amount_cents as bigint) as amount_cents,
    {{ cents_to_dollars('amount_cents') }} as amount,
    cast(principal_received_cents as bigint) as principal_received_cents,
    {{ cents_to_dollars('principal_received_cents') }} as principal_received,
    cast(interest_received_cents as bigint) as interest_received_cents,
    {{ cents_to_dollars('interest_received_cents') }} as interest_received,
    cast(outstanding_principal_cents as bigint) as outstanding_principal_cents,
    {{ cents_to_dollars('outstanding_principal_cents') }} as outstanding_principal,
    cast(invested_at as timestamp) as invested_at
from final
