-- Every note-month the API's NAR counts (api/reports/portfolio.py note_months), one row each. Month m of a
-- note runs from its loan's disbursement day + m months (calendar months added to the day, clamped to the
-- month's end as dateutil's relativedelta does) to + m+1 months, for every month starting on or before the
-- build's platform day. Only issued notes of disbursed loans count. Opening principal is the note's amount
-- less the principal received (settled payments only: a returned payment's distributions were reversed)
-- and written off before the month starts. A month counts when principal was outstanding at its start,
-- or it holds a payment or the note's charge-off; after a month with none of these and no payment left
-- in the future, the API stops counting.
-- Each dated fact is put in its note-month with one comparison (month_number), and opening principal is a
-- running sum over those buckets, so the work is one row per note-month, not per note-month per payment.
with notes as (
    select
        investments.investment_id,
        investments.investor_id,
        investments.loan_id,
        investments.amount_cents,
        cast(loans.disbursed_at as date) as start_date,
        cast({{ dbt.date_trunc('month', 'cast(loans.disbursed_at as date)') }} as date) as start_month_date
    from {{ ref('stg_investments') }} as investments
    inner join {{ ref('stg_loans') }} as loans on investments.loan_id = loans.loan_id
    where investments.note_status = 'issued' and loans.disbursed_at is not null
),

events as (
    select
        distributions.investment_id,
        payments.payment_date as event_date,
        1 as payments_count,
        distributions.principal_cents,
        distributions.interest_cents,
        distributions.fees_cents as late_fees_cents,
        distributions.recovery_cents as recoveries_cents,
        distributions.servicing_fee_cents as servicing_fees_cents,
        0 as charged_off_cents
    from {{ ref('stg_payment_distributions') }} as distributions
    inner join {{ ref('stg_payments') }} as payments on distributions.payment_id = payments.payment_id
    where payments.payment_status = 'settled'
    union all
    select
        investment_id,
        charged_off_date as event_date,
        0 as payments_count,
        0 as principal_cents,
        0 as interest_cents,
        0 as late_fees_cents,
        0 as recoveries_cents,
        0 as servicing_fees_cents,
        principal_cents as charged_off_cents
    from {{ ref('stg_note_charge_offs') }}
),

-- the note-month holding each event: the calendar-month difference, less one when adding it overshoots
-- (disbursed on the 20th, paid on the 10th of a later month); negative before disbursement
events_bucketed as (
    select
        events.*,
        cast({{ dbt.datediff('notes.start_date', 'events.event_date', 'month') }} as bigint)
        - case
            when cast({{ dbt.dateadd('month', dbt.datediff('notes.start_date', 'events.event_date', 'month'),
                'notes.start_date') }} as date) > events.event_date then 1
            else 0
        end as month_number
    from events
    inner join notes on events.investment_id = notes.investment_id
),

buckets as (
    select
        investment_id,
        month_number,
        0 as is_spine,
        sum(payments_count) as payments_count,
        sum(principal_cents) as principal_cents,
        sum(interest_cents) as interest_cents,
        sum(late_fees_cents) as late_fees_cents,
        sum(recoveries_cents) as recoveries_cents,
        sum(servicing_fees_cents) as servicing_fees_cents,
        sum(charged_off_cents) as charged_off_cents
    from events_bucketed
    group by investment_id, month_number
),

last_month as (
    select notes.*, cast({{ dbt.date_trunc('month', as_of_date()) }} as date) as end_month_date from notes
),

spine as (
    select
        investment_id,
        cast({{ dbt.datediff('start_month_date', 'spine_date', 'month') }} as bigint) as month_number,
        1 as is_spine,
        0 as payments_count,
        0 as principal_cents,
        0 as interest_cents,
        0 as late_fees_cents,
        0 as recoveries_cents,
        0 as servicing_fees_cents,
        0 as charged_off_cents
    from ({{ date_spine('last_month', 'start_month_date', 'end_month_date', 'month') }}) as months
),

combined as (
    select
        investment_id,
        month_number,
        max(is_spine) as is_spine,
        sum(payments_count) as payments_count,
        sum(principal_cents) as principal_cents,
        sum(interest_cents) as interest_cents,
        sum(late_fees_cents) as late_fees_cents,
        sum(recoveries_cents) as recoveries_cents,
        sum(servicing_fees_cents) as servicing_fees_cents,
        sum(charged_off_cents) as charged_off_cents
    from (select * from spine union all select * from buckets) as rows_
    group by investment_id, month_number
),

opened as (
    select
        combined.*,
        notes.investor_id,
        notes.loan_id,
        cast({{ dbt.dateadd('month', 'combined.month_number', 'notes.start_date') }} as date) as month_start_date,
        notes.amount_cents - coalesce(sum(combined.principal_cents + combined.charged_off_cents) over (
            partition by combined.investment_id order by combined.month_number
            rows between unbounded preceding and 1 preceding
        ), 0) as opening_principal_cents,
        max(case when combined.payments_count > 0 then combined.month_number end) over (
            partition by combined.investment_id
        ) as last_payment_month_number
    from combined
    inner join notes on combined.investment_id = notes.investment_id
),

judged as (
    select
        *,
        (opening_principal_cents > 0 or payments_count > 0 or charged_off_cents <> 0) as is_counted,
        -- the API's stop: nothing outstanding, nothing in the month, and no payment from here on
        (
            opening_principal_cents <= 0 and payments_count = 0 and charged_off_cents = 0
            and coalesce(last_payment_month_number, -1) < month_number
        ) as is_stop
    from opened
    where is_spine = 1 and month_number >= 0 and month_start_date <= {{ as_of_date() }}
),

stopped as (
    select
        *,
        min(case when is_stop then month_number end) over (partition by investment_id) as stop_month_number
    from judged
)

select
    cast(investment_id as bigint) as investment_id,
    cast(investor_id as bigint) as investor_id,
    cast(loan_id as bigint) as loan_id,
    cast(month_number as integer) as month_number,
    month_start_date,
    cast(case when opening_principal_cents > 0 then opening_principal_cents else 0 end as bigint)
        as principal_outstanding_cents,
    cast(interest_cents as bigint) as interest_cents,
    cast(late_fees_cents as bigint) as late_fees_cents,
    cast(recoveries_cents as bigint) as recoveries_cents,
    cast(servicing_fees_cents as bigint) as servicing_fees_cents,
    cast(charged_off_cents as bigint) as charged_off_cents,
    cast(interest_cents + late_fees_cents + recoveries_cents - servicing_fees_cents - charged_off_cents as bigint)
        as net_cents
from stopped
where is_counted and (stop_month_number is null or month_number < stop_month_number)
