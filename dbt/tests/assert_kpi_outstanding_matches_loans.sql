-- The last day's outstanding principal in the daily KPIs equals the sum over loans.
with last_day as (
    select outstanding_principal_cents
    from {{ ref('fct_platform_kpis_daily') }}
    order by activity_date desc
    limit 1
),

loans as (
    select coalesce(sum(outstanding_principal_cents), 0) as outstanding_principal_cents
    from {{ ref('fct_borrower_loans') }}
)

select last_day.outstanding_principal_cents as kpi_cents, loans.outstanding_principal_cents as loans_cents
from last_day
cross join loans
where last_day.outstanding_principal_cents <> loans.outstanding_principal_cents
