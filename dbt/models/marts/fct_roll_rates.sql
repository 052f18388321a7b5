-- Roll rates: of the loans in each delinquency bucket at the end of a month, how many (and how much
-- principal) were in each bucket at the end of the next month. The buckets are the loans' real statuses
-- (the API's lifecycle: current, grace, late_16_30, late_31_120, then charged_off or repaid), read from
-- the lifecycle events as of each month end. Repaid and charged-off loans leave the book, so they are only
-- destinations.
with states as (
    select loan_id, month_date, loan_status as loan_state, outstanding_principal_cents
    from {{ ref('int_loan_month_states') }}
    where loan_status in ('current', 'grace', 'late_16_30', 'late_31_120', 'charged_off', 'repaid')
),

transitions as (
    select
        origin.month_date as from_month_date,
        origin.loan_state as from_state,
        destination.loan_state as to_state,
        origin.outstanding_principal_cents
    from states as origin
    inner join states as destination
        on origin.loan_id = destination.loan_id
        and destination.month_date = cast({{ dbt.dateadd('month', 1, 'origin.month_date') }} as date)
    where origin.loan_state not in ('repaid', 'charged_off')
),

counted as (
    select
        from_month_date,
        from_state,
        to_state,
        count(*) as loans_count,
        sum(outstanding_principal_cents) as from_principal_cents
    from transitions
    group by from_month_date, from_state, to_state
)

select
    cast(from_month_date as date) as from_month_date,
    cast(from_state as varchar) as from_state,
    cast(to_state as varchar) as to_state,
    cast(loans_count as integer) as loans_count,
    cast(from_principal_cents as bigint) as from_principal_cents,
    {{ cents_to_dollars('from_principal_cents') }} as from_principal,
    {{ ratio('loans_count', 'sum(loans_count) over (partition by from_month_date, from_state)') }} as roll_rate,
    {{ ratio('from_principal_cents', 'sum(from_principal_cents) over (partition by from_month_date, from_state)') }}
        as principal_roll_rate
from counted
