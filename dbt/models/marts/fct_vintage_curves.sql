-- Vintage curves: for every disbursement month (vintage) and grade, and every month on book from 0 to the
-- build's month, the cumulative share of the vintage's principal charged off, the cumulative count of
-- charged-off loans, and the share of the vintage's loans more than 30 days past due at that age.
-- Correct once servicing produces late and charged-off loans (unit-tested on hand-made ones).
with states as (
    select * from {{ ref('int_loan_month_states') }}
),

vintages as (
    select
        vintage_date,
        grade,
        count(*) as loans_count,
        sum(funded_amount_cents) as originated_cents,
        cast({{ dbt.date_trunc('month', as_of_date()) }} as date) as last_month_date
    from states
    where months_on_book = 0
    group by vintage_date, grade
),

spined as (
    {{ date_spine('vintages', 'vintage_date', 'last_month_date', 'month') }}
),

ages as (
    select
        vintage_date,
        grade,
        loans_count,
        originated_cents,
        cast({{ dbt.datediff('vintage_date', 'spine_date', 'month') }} as integer) as months_on_book
    from spined
),

charge_offs as (
    select vintage_date, grade, months_on_book, count(*) as defaults_count,
        sum(charged_off_principal_cents) as charged_off_cents
    from states
    where loan_state = 'charged_off'
    group by vintage_date, grade, months_on_book
),

delinquent as (
    select vintage_date, grade, months_on_book, count(*) as delinquent_30_plus_count
    from states
    where loan_state in ('dpd_31_60', 'dpd_61_90', 'dpd_91_120', 'dpd_121_plus')
    group by vintage_date, grade, months_on_book
),

curve as (
    select
        ages.*,
        coalesce(delinquent.delinquent_30_plus_count, 0) as delinquent_30_plus_count,
        sum(coalesce(charge_offs.defaults_count, 0)) over (
            partition by ages.vintage_date, ages.grade order by ages.months_on_book
            rows between unbounded preceding and current row
        ) as cumulative_defaults_count,
        sum(coalesce(charge_offs.charged_off_cents, 0)) over (
            partition by ages.vintage_date, ages.grade order by ages.months_on_book
            rows between unbounded preceding and current row
        ) as cumulative_charged_off_cents
    from ages
    left join charge_offs
        on ages.vintage_date = charge_offs.vintage_date and ages.grade = charge_offs.grade
        and ages.months_on_book = charge_offs.months_on_book
    left join delinquent
        on ages.vintage_date = delinquent.vintage_date and ages.grade = delinquent.grade
        and ages.months_on_book = delinquent.months_on_book
)

select
    cast(vintage_date as date) as vintage_date,
    cast(grade as varchar) as grade,
    cast(months_on_book as integer) as months_on_book,
    cast(loans_count as integer) as loans_count,
    cast(originated_cents as bigint) as originated_cents,
    {{ cents_to_dollars('originated_cents') }} as originated,
    cast(cumulative_defaults_count as integer) as cumulative_defaults_count,
    cast(cumulative_charged_off_cents as bigint) as cumulative_charged_off_cents,
    {{ cents_to_dollars('cumulative_charged_off_cents') }} as cumulative_charged_off,
    {{ ratio('cumulative_charged_off_cents', 'originated_cents') }} as cumulative_loss_rate,
    {{ ratio('cumulative_defaults_count', 'loans_count') }} as cumulative_default_rate,
    cast(delinquent_30_plus_count as integer) as delinquent_30_plus_count,
    {{ ratio('delinquent_30_plus_count', 'loans_count') }} as delinquent_30_plus_share
from curve
