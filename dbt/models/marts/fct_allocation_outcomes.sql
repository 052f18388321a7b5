-- Allocation outcomes: one row per auto-invest run, what it claimed and what it placed, from the run's own
-- record (stg_allocation_runs) and the notes its rounds allocated (stg_allocations): how many listings,
-- loans and investors got notes, the amount allocated against the listings' capacity for automated
-- investors, and how much of it became live notes.
with runs as (
    select * from {{ ref('stg_allocation_runs') }}
),

allocated as (
    select
        allocations.run_id,
        count(*) as allocations_count,
        count(distinct allocations.loan_id) as loans_count,
        count(distinct allocations.investor_id) as investors_count,
        sum(allocations.amount_cents) as allocated_cents,
        sum(case when investments.note_status = 'issued' then allocations.amount_cents else 0 end) as issued_cents
    from {{ ref('stg_allocations') }} as allocations
    left join {{ ref('stg_investments') }} as investments on allocations.investment_id = investments.investment_id
    group by allocations.run_id
),

capacity as (
    -- a listing's capacity as the first round that reached it saw it
    select run_id, sum(capacity_cents) as capacity_cents
    from (
        select
            run_id,
            loan_id,
            capacity_cents,
            row_number() over (partition by run_id, loan_id order by round, queue_position) as reached
        from {{ ref('stg_allocations') }}
    ) as firsts
    where reached = 1
    group by run_id
)

select
    cast(runs.run_id as bigint) as run_id,
    cast(runs.trigger as varchar) as run_trigger,
    cast(runs.started_at as timestamp) as started_at,
    cast(runs.finished_at as timestamp) as finished_at,
    cast({{ dbt.date_trunc('month', 'runs.started_at') }} as date) as run_month_date,
    cast(runs.rounds as integer) as rounds,
    cast(runs.listings as integer) as listings_claimed,
    cast(runs.rules as integer) as rules_considered,
    cast(coalesce(allocated.allocations_count, 0) as integer) as notes_allocated,
    cast(coalesce(allocated.loans_count, 0) as integer) as loans_allocated,
    cast(coalesce(allocated.investors_count, 0) as integer) as investors_allocated,
    cast(coalesce(allocated.allocated_cents, 0) as bigint) as allocated_cents,
    {{ cents_to_dollars('coalesce(allocated.allocated_cents, 0)') }} as allocated,
    cast(coalesce(allocated.issued_cents, 0) as bigint) as issued_cents,
    {{ cents_to_dollars('coalesce(allocated.issued_cents, 0)') }} as issued,
    cast(coalesce(capacity.capacity_cents, 0) as bigint) as capacity_cents,
    {{ ratio('coalesce(allocated.allocated_cents, 0)', 'capacity.capacity_cents') }} as fill_rate
from runs
left join allocated on runs.run_id = allocated.run_id
left join capacity on runs.run_id = capacity.run_id
