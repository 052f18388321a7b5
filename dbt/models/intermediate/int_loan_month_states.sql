{{ config(materialized='table') }}
-- Every disbursed loan at the end of every month it was on the books (the current month as of the build's
-- platform day), rebuilt from dated facts so history needs no snapshot: installments paid by then (the API
-- pays the oldest first, so the oldest unpaid one is number paid + 1), principal repaid by then, and the
-- loan's closing. State: repaid or charged_off from the month the loan closed so, else a delinquency
-- bucket of the oldest unpaid installment's days past due, late from the day AFTER its due date (the
-- API's rule). Vintage curves and roll rates read it; it is correct as soon as servicing produces late
-- and charged-off loans. A table: several marts read it.
with loans as (
    select
        loan_id,
        grade,
        status,
        funded_amount_cents,
        probability_of_default_ppm,
        score_model_version,
        cast(disbursed_at as date) as disbursed_date,
        cast(closed_at as date) as closed_date
    from {{ ref('stg_loans') }}
    where disbursed_at is not null
),

bounds as (
    select
        loans.*,
        cast({{ dbt.date_trunc('month', 'disbursed_date') }} as date) as first_month_date,
        cast({{ dbt.date_trunc('month', 'least(coalesce(closed_date, ' ~ as_of_date() ~ '), ' ~ as_of_date() ~ ')') }}
            as date) as last_month_date
    from loans
),

months as (
    {{ date_spine('bounds', 'first_month_date', 'last_month_date', 'month') }}
),

observed as (
    select
        months.*,
        months.spine_date as month_date,
        least(cast({{ dbt.last_day('months.spine_date', 'month') }} as date), {{ as_of_date() }}) as observed_date,
        cast({{ dbt.datediff('months.first_month_date', 'months.spine_date', 'month') }} as integer)
            as months_on_book
    from months
),

paid_by_month as (
    select
        loan_id,
        cast({{ dbt.date_trunc('month', 'cast(paid_at as date)') }} as date) as month_date,
        count(*) as installments_paid_count
    from {{ ref('stg_installments') }}
    where paid_at is not null
    group by 1, 2
),

repaid_by_month as (
    select
        loan_id,
        cast({{ dbt.date_trunc('month', 'payment_date') }} as date) as month_date,
        sum(principal_cents) as principal_repaid_cents,
        sum(interest_cents) as interest_paid_cents
    from {{ ref('stg_payments') }}
    where payment_status = 'settled'  -- a returned payment was reversed
    group by 1, 2
),

cumulative as (
    select
        observed.*,
        sum(coalesce(paid_by_month.installments_paid_count, 0)) over (
            partition by observed.loan_id order by observed.month_date rows between unbounded preceding and current row
        ) as installments_paid,
        sum(coalesce(repaid_by_month.principal_repaid_cents, 0)) over (
            partition by observed.loan_id order by observed.month_date rows between unbounded preceding and current row
        ) as principal_repaid_cents,
        coalesce(repaid_by_month.principal_repaid_cents, 0) as month_principal_repaid_cents,
        coalesce(repaid_by_month.interest_paid_cents, 0) as month_interest_paid_cents
    from observed
    left join paid_by_month
        on observed.loan_id = paid_by_month.loan_id and observed.month_date = paid_by_month.month_date
    left join repaid_by_month
        on observed.loan_id = repaid_by_month.loan_id and observed.month_date = repaid_by_month.month_date
),

with_oldest as (
    select
        cumulative.*,
        oldest.due_date as oldest_unpaid_due_date
    from cumulative
    left join {{ ref('stg_installments') }} as oldest
        on cumulative.loan_id = oldest.loan_id and oldest.installment_number = cumulative.installments_paid + 1
),

-- The loan's real status (the API's lifecycle, from stg_loan_events) at the end of each month: the
-- status of the last event on or before the observed day. Events become intervals [entered, next event)
-- so the month rows meet them in one range join.
status_intervals as (
    select
        loan_id,
        to_status,
        cast(occurred_at as date) as from_date,
        lead(cast(occurred_at as date)) over (partition by loan_id order by event_id) as to_date,
        lead(event_id) over (partition by loan_id order by event_id) as next_event_id
    from {{ ref('stg_loan_events') }}
),

-- several events on one day: only the day's last one counts for that day
status_by_day as (
    select loan_id, to_status, from_date, to_date
    from status_intervals
    where to_date is null or to_date > from_date
),

with_status as (
    select
        with_oldest.*,
        status_by_day.to_status as loan_status
    from with_oldest
    left join status_by_day
        on with_oldest.loan_id = status_by_day.loan_id
        and status_by_day.from_date <= with_oldest.observed_date
        and (status_by_day.to_date is null or with_oldest.observed_date < status_by_day.to_date)
),

dated as (
    select
        *,
        case when oldest_unpaid_due_date < observed_date
            then cast({{ dbt.datediff('oldest_unpaid_due_date', 'observed_date', 'day') }} as integer) else 0
        end as days_past_due,
        (status = 'charged_off' and closed_date <= observed_date) as is_charged_off,
        (status = 'repaid' and closed_date <= observed_date) as is_repaid
    from with_status
)

select
    cast(loan_id as bigint) as loan_id,
    cast(month_date as date) as month_date,
    cast(observed_date as date) as observed_date,
    cast(first_month_date as date) as vintage_date,
    cast(months_on_book as integer) as months_on_book,
    cast(grade as varchar) as grade,
    cast(probability_of_default_ppm as integer) as probability_of_default_ppm,
    cast(score_model_version as varchar) as score_model_version,
    cast(funded_amount_cents as bigint) as funded_amount_cents,
    cast(loan_status as varchar) as loan_status,
    cast(case
        when is_charged_off then 'charged_off'
        when is_repaid then 'repaid'
        when days_past_due = 0 then 'current'
        when days_past_due <= 30 then 'dpd_1_30'
        when days_past_due <= 60 then 'dpd_31_60'
        when days_past_due <= 90 then 'dpd_61_90'
        when days_past_due <= 120 then 'dpd_91_120'
        else 'dpd_121_plus'
    end as varchar) as loan_state,
    cast(case when is_charged_off or is_repaid then 0 else days_past_due end as integer) as days_past_due,
    cast(case when is_repaid or is_charged_off then 0 else funded_amount_cents - principal_repaid_cents end as bigint)
        as outstanding_principal_cents,
    cast(case when is_charged_off then funded_amount_cents - principal_repaid_cents else 0 end as bigint)
        as charged_off_principal_cents,
    cast(month_principal_repaid_cents as bigint) as principal_repaid_cents,
    cast(month_interest_paid_cents as bigint) as interest_paid_cents
from dated
