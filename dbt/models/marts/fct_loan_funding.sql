-- Funding velocity: one row per listed loan, how fast and by how many investors it was funded. Listing
-- and funding times come from the lifecycle events (the moment the loan entered `listed` / `funded`).
with loans as (
    select * from {{ ref('stg_loans') }}
),

lifecycle as (
    select
        loan_id,
        min(case when to_status = 'listed' then occurred_at end) as listed_at,
        min(case when to_status = 'funded' then occurred_at end) as funded_at
    from {{ ref('stg_loan_events') }}
    group by loan_id
),

notes as (
    select
        investments.loan_id,
        count(*) as notes_count,
        count(distinct investments.investor_id) as investors_count,
        min(investments.invested_at) as first_note_at,
        sum(case when {{ dbt.datediff('loans.created_at', 'investments.invested_at', 'hour') }} < 24
            then investments.amount_cents else 0 end) as funded_first_day_cents,
        sum(case when investments.note_source = 'auto' then investments.amount_cents else 0 end) as auto_invested_cents
    from {{ ref('stg_investments') }} as investments
    inner join {{ ref('stg_loans') }} as loans on investments.loan_id = loans.loan_id
    group by investments.loan_id
)

select
    cast(loans.loan_id as bigint) as loan_id,
    cast(loans.grade as varchar) as grade,
    cast(loans.status as varchar) as status,
    cast(loans.amount_cents as bigint) as amount_cents,
    {{ cents_to_dollars('loans.amount_cents') }} as amount,
    cast(loans.funded_amount_cents as bigint) as funded_amount_cents,
    {{ cents_to_dollars('loans.funded_amount_cents') }} as funded_amount,
    cast(coalesce(lifecycle.listed_at, loans.created_at) as timestamp) as listed_at,
    cast(notes.first_note_at as timestamp) as first_note_at,
    cast(coalesce(lifecycle.funded_at, loans.funded_at) as timestamp) as funded_at,
    cast(coalesce(lifecycle.funded_at, loans.funded_at) is not null as boolean) as is_fully_funded,
    cast(case when coalesce(lifecycle.funded_at, loans.funded_at) is not null
        then {{ dbt.datediff('coalesce(lifecycle.listed_at, loans.created_at)', 'coalesce(lifecycle.funded_at, loans.funded_at)', 'minute') }}
    end as bigint) as minutes_to_fund,
    cast(coalesce(notes.notes_count, 0) as integer) as notes_count,
    cast(coalesce(notes.investors_count, 0) as integer) as investors_count,
    cast(coalesce(notes.funded_first_day_cents, 0) as bigint) as funded_first_day_cents,
    {{ ratio('coalesce(notes.funded_first_day_cents, 0)', 'loans.amount_cents') }} as funded_first_day_share,
    cast({{ dbt.date_trunc('month', 'loans.created_at') }} as date) as listed_month_date,
    cast(coalesce(notes.auto_invested_cents, 0) as bigint) as auto_invested_cents,
    cast(loans.accepts_partial_funding as boolean) as accepts_partial_funding
from loans
left join notes on loans.loan_id = notes.loan_id
left join lifecycle on loans.loan_id = lifecycle.loan_id
