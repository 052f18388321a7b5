-- Every status a loan entered and when: from the loan's own lifecycle timestamps (listed at created_at,
-- funded at funded_at, active at disbursed_at, the closing status at closed_at), so history from before
-- the warehouse existed is complete, plus every status change the loan snapshot observed that no
-- timestamp records (late and back to active today; the servicing issue's lifecycle events replace this
-- with exact times). One row per (loan, status, entered_at).
with loans as (
    select * from {{ ref('stg_loans') }}
),

lifecycle as (
    select loan_id, 'listed' as status, created_at as entered_at, 'lifecycle' as observed_by from loans
    union all
    select loan_id, 'funded', funded_at, 'lifecycle' from loans where funded_at is not null
    union all
    select loan_id, 'active', disbursed_at, 'lifecycle' from loans where disbursed_at is not null
    union all
    select loan_id, status, closed_at, 'lifecycle' from loans
    where closed_at is not null and status in ('repaid', 'expired', 'cancelled', 'charged_off')
),

versions as (
    select
        loan_id,
        status,
        dbt_valid_from as entered_at,
        lag(status) over (partition by loan_id order by dbt_valid_from) as previous_status
    from {{ ref('snp_loans') }}
),

observed as (
    select loans_seen.loan_id, loans_seen.status, loans_seen.entered_at, 'snapshot' as observed_by
    from versions as loans_seen
    where (loans_seen.previous_status is null or loans_seen.previous_status <> loans_seen.status)
      and not exists (
          select 1 from lifecycle
          where lifecycle.loan_id = loans_seen.loan_id and lifecycle.status = loans_seen.status
            and loans_seen.status in ('listed', 'funded', 'repaid', 'expired', 'cancelled', 'charged_off')
      )
      and not (loans_seen.status = 'active' and loans_seen.previous_status is null)
      and not (loans_seen.status = 'active' and loans_seen.previous_status in ('listed', 'funded'))
),

combined as (
    select * from lifecycle
    union all
    select * from observed
)

select
    cast(loan_id as bigint) as loan_id,
    cast(status as varchar) as status,
    cast(entered_at as timestamp) as entered_at,
    cast(observed_by as varchar) as observed_by,
    cast(lag(status) over (
        partition by loan_id
        -- funded and active can share a timestamp (issuance follows funding at once): lifecycle order breaks ties
        order by entered_at, case status when 'listed' then 1 when 'funded' then 2 when 'active' then 3 else 4 end
    ) as varchar) as previous_status
from combined
