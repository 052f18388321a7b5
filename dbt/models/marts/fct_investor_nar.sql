-- Net annualised return per investor, LendingClub's formula: NAR = (1 + (interest - service fees - net
-- charge-offs) / principal-months) ^ 12 - 1, where principal-months adds each note's outstanding principal
-- at the start of every month it was on the books (disbursement month to the month it closed or the build's
-- month). Exact in integer cents without a note-by-month table: a note of amount A over n months from which
-- principal p_k was repaid in month m_k was outstanding for A * n - sum(p_k * (last month - m_k)) cent-months.
-- Service fees and recoveries are 0 until the servicing issue adds them.
with notes as (
    select investment_id, investor_id, loan_id, amount_cents from {{ ref('stg_investments') }}
),

loan_months as (
    select
        loan_id,
        min(month_date) as first_month_date,
        max(month_date) as last_month_date,
        max(case when loan_state = 'charged_off' then 1 else 0 end) as is_charged_off
    from {{ ref('int_loan_month_states') }}
    group by loan_id
),

received as (
    select
        distributions.investment_id,
        cast({{ dbt.date_trunc('month', 'payments.payment_date') }} as date) as month_date,
        sum(distributions.principal_cents) as principal_cents,
        sum(distributions.interest_cents) as interest_cents
    from {{ ref('stg_payment_distributions') }} as distributions
    inner join {{ ref('stg_payments') }} as payments on distributions.payment_id = payments.payment_id
    group by 1, 2
),

note_flows as (
    select
        notes.investment_id,
        notes.investor_id,
        notes.amount_cents,
        loan_months.is_charged_off,
        cast({{ dbt.datediff('loan_months.first_month_date', 'loan_months.last_month_date', 'month') }} as bigint) + 1
            as months_on_book,
        coalesce(sum(received.principal_cents), 0) as principal_received_cents,
        coalesce(sum(received.interest_cents), 0) as interest_received_cents,
        coalesce(sum(received.principal_cents
            * {{ dbt.datediff('received.month_date', 'loan_months.last_month_date', 'month') }}), 0)
            as principal_repaid_months_cents
    from notes
    inner join loan_months on notes.loan_id = loan_months.loan_id
    left join received on notes.investment_id = received.investment_id
    group by 1, 2, 3, 4, 5
),

investor_totals as (
    select
        investor_id,
        count(*) as notes_count,
        sum(interest_received_cents) as interest_received_cents,
        sum(case when is_charged_off = 1 then amount_cents - principal_received_cents else 0 end)
            as charged_off_cents,
        sum(amount_cents * months_on_book - principal_repaid_months_cents) as principal_months_cents
    from note_flows
    group by investor_id
),

returns as (
    select
        *,
        0 as service_fees_cents,
        0 as recoveries_cents,
        interest_received_cents - charged_off_cents as net_return_cents
    from investor_totals
)

select
    cast(investor_id as bigint) as investor_id,
    cast(notes_count as integer) as notes_count,
    cast(interest_received_cents as bigint) as interest_received_cents,
    {{ cents_to_dollars('interest_received_cents') }} as interest_received,
    cast(service_fees_cents as bigint) as service_fees_cents,
    cast(charged_off_cents as bigint) as charged_off_cents,
    {{ cents_to_dollars('charged_off_cents') }} as charged_off,
    cast(recoveries_cents as bigint) as recoveries_cents,
    cast(net_return_cents as bigint) as net_return_cents,
    {{ cents_to_dollars('net_return_cents') }} as net_return,
    cast(principal_months_cents as bigint) as principal_months_cents,
    {{ ratio('net_return_cents', 'principal_months_cents') }} as monthly_return,
    cast(case when principal_months_cents > 0 then
        power(1 + cast(net_return_cents as decimal(38, 12)) / cast(principal_months_cents as decimal(38, 12)), 12) - 1
    end as decimal(12, 6)) as net_annualized_return
from returns
