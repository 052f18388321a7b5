-- One row per investor: ledger-derived balances plus note activity.
-- portfolio_value = cash + committed + outstanding principal.
with investors as (
    select * from {{ ref('stg_investors') }}
),

balances as (
    select * from {{ ref('int_investor_balances_summed') }}
),

notes as (
    select
        investor_id,
        cast(sum(amount_cents) as bigint) as total_invested_cents,
        count(*) as notes_count,
        count(distinct loan_id) as loans_count
    from {{ ref('stg_investments') }}
    group by investor_id
),

received as (
    -- settled payments only: a returned payment's distributions were reversed
    select distributions.investor_id, cast(sum(distributions.principal_cents) as bigint) as principal_received_cents
    from {{ ref('stg_payment_distributions') }} as distributions
    inner join {{ ref('stg_payments') }} as payments on distributions.payment_id = payments.payment_id
    where payments.payment_status = 'settled'
    group by distributions.investor_id
),

final as (
    select
        investors.investor_id,
        investors.user_id,
        investors.username,
        coalesce(balances.cash_cents, 0) as cash_cents,
        coalesce(balances.committed_cents, 0) as committed_cents,
        coalesce(balances.outstanding_principal_cents, 0) as outstanding_principal_cents,
        coalesce(received.principal_received_cents, 0) as principal_received_cents,
        coalesce(balances.interest_received_cents, 0) as interest_received_cents,
        coalesce(notes.total_invested_cents, 0) as total_invested_cents,
        coalesce(notes.notes_count, 0) as notes_count,
        coalesce(notes.loans_count, 0) as loans_count
    from investors
    left join balances on investors.investor_id = balances.investor_id
    left join notes on investors.investor_id = notes.investor_id
    left join received on investors.investor_id = received.investor_id
)

select
    cast(investor_id as bigint) as investor_id,
    cast(user_id as bigint) as user_id,
    cast(username as varchar) as username,
    cast(cash_cents as bigint) as cash_cents,
    {{ cents_to_dollars('cash_cents') }} as cash,
    cast(committed_cents as bigint) as committed_cents,
    {{ cents_to_dollars('committed_cents') }} as committed,
    cast(outstanding_principal_cents as bigint) as outstanding_principal_cents,
    {{ cents_to_dollars('outstanding_principal_cents') }} as outstanding_principal,
    cast(principal_received_cents as bigint) as principal_received_cents,
    {{ cents_to_dollars('principal_received_cents') }} as principal_received,
    cast(interest_received_cents as bigint) as interest_received_cents,
    {{ cents_to_dollars('interest_received_cents') }} as interest_received,
    cast(total_invested_cents as bigint) as total_invested_cents,
    {{ cents_to_dollars('total_invested_cents') }} as total_invested,
    cast(cash_cents + committed_cents + outstanding_principal_cents as bigint) as portfolio_value_cents,
    {{ cents_to_dollars('cash_cents + committed_cents + outstanding_principal_cents') }} as portfolio_value,
    cast(notes_count as integer) as notes_count,
    cast(loans_count as integer) as loans_count
from final
