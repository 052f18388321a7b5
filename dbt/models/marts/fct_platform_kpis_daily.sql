-- One row per calendar day from the first to the last day with any activity, gaps filled with zeros.
-- Flows (listings, fundings, originations, repayments, interest, deposits, active investors) are per day;
-- outstanding principal is the ledger's loan_principal balance at the end of the day.
with loans as (
    select loan_id, created_at, funded_at from {{ ref('stg_loans') }}
),

payments as (
    select payment_date, amount_cents, interest_cents from {{ ref('stg_payments') }}
),

listed as (
    select cast(created_at as date) as activity_date, count(*) as loans_listed
    from loans group by 1
),

funded as (
    select cast(funded_at as date) as activity_date, count(*) as loans_funded
    from loans where funded_at is not null group by 1
),

repaid as (
    select payment_date as activity_date, sum(amount_cents) as repayments_cents, sum(interest_cents) as interest_paid_cents
    from payments group by 1
),

-- the ledger's flows per day, kept incrementally (int_ledger_daily): a day of the whole ledger each
ledger_daily as (
    select
        posted_date as activity_date,
        originations_cents,
        deposits_cents,
        principal_change_cents,
        active_investors
    from {{ ref('int_ledger_daily') }}
),

bounds as (
    select min(activity_date) as first_date, max(activity_date) as last_date
    from (
        select activity_date from listed
        union all select activity_date from funded
        union all select activity_date from repaid
        union all select activity_date from ledger_daily
    ) as all_days
),

active_bounds as (
    select first_date, last_date from bounds where first_date is not null
),

spined as (
    {{ date_spine('active_bounds', 'first_date', 'last_date', 'day') }}
),

calendar as (
    select spine_date as activity_date from spined
),

daily as (
    select
        calendar.activity_date,
        coalesce(listed.loans_listed, 0) as loans_listed,
        coalesce(funded.loans_funded, 0) as loans_funded,
        coalesce(ledger_daily.originations_cents, 0) as originations_cents,
        coalesce(repaid.repayments_cents, 0) as repayments_cents,
        coalesce(repaid.interest_paid_cents, 0) as interest_paid_cents,
        coalesce(ledger_daily.deposits_cents, 0) as deposits_cents,
        coalesce(ledger_daily.principal_change_cents, 0) as principal_change_cents,
        coalesce(ledger_daily.active_investors, 0) as active_investors
    from calendar
    left join listed on calendar.activity_date = listed.activity_date
    left join funded on calendar.activity_date = funded.activity_date
    left join repaid on calendar.activity_date = repaid.activity_date
    left join ledger_daily on calendar.activity_date = ledger_daily.activity_date
),

final as (
    select
        *,
        sum(principal_change_cents) over (order by activity_date rows unbounded preceding)
            as outstanding_principal_cents,
        sum(originations_cents) over (order by activity_date rows unbounded preceding)
            as cumulative_originations_cents
    from daily
)

select
    cast(activity_date as date) as activity_date,
    cast(loans_listed as integer) as loans_listed,
    cast(loans_funded as integer) as loans_funded,
    cast(originations_cents as bigint) as originations_cents,
    {{ cents_to_dollars('originations_cents') }} as originations,
    cast(repayments_cents as bigint) as repayments_cents,
    {{ cents_to_dollars('repayments_cents') }} as repayments,
    cast(interest_paid_cents as bigint) as interest_paid_cents,
    {{ cents_to_dollars('interest_paid_cents') }} as interest_paid,
    cast(deposits_cents as bigint) as deposits_cents,
    {{ cents_to_dollars('deposits_cents') }} as deposits,
    cast(outstanding_principal_cents as bigint) as outstanding_principal_cents,
    {{ cents_to_dollars('outstanding_principal_cents') }} as outstanding_principal,
    cast(cumulative_originations_cents as bigint) as cumulative_originations_cents,
    {{ cents_to_dollars('cumulative_originations_cents') }} as cumulative_originations,
    cast(active_investors as integer) as active_investors
from final
