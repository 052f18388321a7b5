-- Net annualised return per investor, exactly the API's (api/reports/returns.py net_annualized_return over
-- api/reports/portfolio.py note_months, what GET /investors/me/portfolio shows):
--   NAR = (1 + sum_m(interest + late fees + recoveries - servicing fees - charged-off principal)_m
--              / sum_m(principal outstanding at the start of month m)) ^ 12 - 1,
-- over every note-month of int_note_months_derived (months counted from each loan's disbursement day),
-- both sums exact in integer cents; -1 when the monthly return is -100 % or worse; null when no principal
-- was ever outstanding; rounded half up (away from zero) to 4 decimals as the API rounds.
-- The twelfth power itself is computed in DOUBLE: no engine has exact rationals of that size, and the
-- result can only differ from the API's exact Fraction when the true value lies within about 1e-12 of a
-- half-basis-point boundary. Both integer sums are columns here, so the exact figure can be recomputed.
with investors as (
    select distinct investor_id from {{ ref('stg_investments') }}
),

months as (
    select
        investor_id,
        count(distinct investment_id) as notes_count,
        count(*) as note_months_count,
        sum(interest_cents) as interest_received_cents,
        sum(late_fees_cents) as late_fees_cents,
        sum(recoveries_cents) as recoveries_cents,
        sum(servicing_fees_cents) as servicing_fees_cents,
        sum(charged_off_cents) as charged_off_cents,
        sum(net_cents) as net_return_cents,
        sum(principal_outstanding_cents) as principal_months_cents
    from {{ ref('int_note_months_derived') }}
    group by investor_id
),

returns as (
    select
        investors.investor_id,
        coalesce(months.notes_count, 0) as notes_count,
        coalesce(months.note_months_count, 0) as note_months_count,
        coalesce(months.interest_received_cents, 0) as interest_received_cents,
        coalesce(months.late_fees_cents, 0) as late_fees_cents,
        coalesce(months.recoveries_cents, 0) as recoveries_cents,
        coalesce(months.servicing_fees_cents, 0) as servicing_fees_cents,
        coalesce(months.charged_off_cents, 0) as charged_off_cents,
        coalesce(months.net_return_cents, 0) as net_return_cents,
        coalesce(months.principal_months_cents, 0) as principal_months_cents
    from investors
    left join months on investors.investor_id = months.investor_id
),

annualised as (
    select
        *,
        case
            when principal_months_cents <= 0 then null
            when net_return_cents <= -principal_months_cents then -10000
            else cast(round(
                (power(1 + cast(net_return_cents as double) / cast(principal_months_cents as double), 12) - 1)
                * 10000
            ) as bigint)
        end as nar_basis_points
    from returns
)

select
    cast(investor_id as bigint) as investor_id,
    cast(notes_count as integer) as notes_count,
    cast(note_months_count as integer) as note_months_count,
    cast(interest_received_cents as bigint) as interest_received_cents,
    {{ cents_to_dollars('interest_received_cents') }} as interest_received,
    cast(late_fees_cents as bigint) as late_fees_cents,
    cast(servicing_fees_cents as bigint) as service_fees_cents,
    cast(charged_off_cents as bigint) as charged_off_cents,
    {{ cents_to_dollars('charged_off_cents') }} as charged_off,
    cast(recoveries_cents as bigint) as recoveries_cents,
    cast(net_return_cents as bigint) as net_return_cents,
    {{ cents_to_dollars('net_return_cents') }} as net_return,
    cast(principal_months_cents as bigint) as principal_months_cents,
    {{ ratio('net_return_cents', 'principal_months_cents') }} as monthly_return,
    cast(cast(nar_basis_points as decimal(18, 0)) * 0.0001 as decimal(12, 6)) as net_annualized_return
from annualised
