-- Platform KPIs by calendar month, from the first month with any activity to the build's month: listings,
-- originations, funded volume, fee revenue, active investors, the book at month end, and losses as
-- LendingClub reports them:
-- - charge-offs are the principal the ledger wrote off (note_charge_offs, by charge-off day), recoveries
--   what borrowers paid on charged-off loans (settled payments' recovery_cents, gross of the collection
--   fee), net charge-offs = charge-offs - recoveries;
-- - loss_rate = cumulative net charge-offs / cumulative originations (a lifetime loss rate);
-- - annualized_net_charge_off_rate = the month's net charge-offs * 12 / average outstanding principal
--   (the mean of the previous and this month-end book), computed as net * 24 / (previous + this).
with loans as (
    select
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as listed_month_date,
        cast({{ dbt.date_trunc('month', 'funded_at') }} as date) as funded_month_date,
        funded_amount_cents
    from {{ ref('stg_loans') }}
),

listed as (
    select listed_month_date as month_date, count(*) as loans_listed from loans group by 1
),

funded as (
    select funded_month_date as month_date, count(*) as loans_funded, sum(funded_amount_cents) as funded_volume_cents
    from loans where funded_month_date is not null group by 1
),

-- the ledger's flows per month, kept incrementally (int_ledger_monthly): a month of the whole ledger each
ledger_monthly as (
    select month_date, originations_cents, active_investors from {{ ref('int_ledger_monthly') }}
),

originated as (
    select cast(vintage_date as date) as month_date, count(*) as originations_count
    from {{ ref('int_loan_month_states') }}
    where months_on_book = 0
    group by 1
),

-- Fee revenue is what the ledger credits to the platform's revenue accounts: origination fees kept at
-- issuance (platform_fee_income) and servicing income (late fees and the like, platform_servicing_income).
fees as (
    select month_date, fee_revenue_cents from {{ ref('int_ledger_monthly') }}
),

charge_offs as (
    select
        cast({{ dbt.date_trunc('month', 'charged_off_date') }} as date) as month_date,
        sum(principal_cents) as charged_off_principal_cents
    from {{ ref('stg_note_charge_offs') }}
    group by 1
),

recoveries as (
    select cast({{ dbt.date_trunc('month', 'payment_date') }} as date) as month_date, sum(recovery_cents) as recoveries_cents
    from {{ ref('stg_payments') }}
    where payment_status = 'settled' and recovery_cents <> 0
    group by 1
),

book as (
    select
        month_date,
        count(case when loan_state not in ('repaid', 'charged_off') then 1 end) as active_loans,
        sum(outstanding_principal_cents) as outstanding_principal_cents
    from {{ ref('int_loan_month_states') }}
    group by month_date
),

bounds as (
    select min(month_date) as first_month_date, max(month_date) as last_month_date
    from (
        select month_date from listed
        union all select month_date from ledger_monthly
        union all select cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
    ) as all_months
    having count(*) > 1
),

spined as (
    {{ date_spine('bounds', 'first_month_date', 'last_month_date', 'month') }}
),

monthly as (
    select
        spined.spine_date as month_date,
        coalesce(listed.loans_listed, 0) as loans_listed,
        coalesce(funded.loans_funded, 0) as loans_funded,
        coalesce(funded.funded_volume_cents, 0) as funded_volume_cents,
        coalesce(originated.originations_count, 0) as originations_count,
        coalesce(ledger_monthly.originations_cents, 0) as originations_cents,
        coalesce(fees.fee_revenue_cents, 0) as fee_revenue_cents,
        coalesce(ledger_monthly.active_investors, 0) as active_investors,
        coalesce(book.active_loans, 0) as active_loans,
        coalesce(book.outstanding_principal_cents, 0) as outstanding_principal_cents,
        coalesce(charge_offs.charged_off_principal_cents, 0) as charged_off_principal_cents,
        coalesce(recoveries.recoveries_cents, 0) as recoveries_cents
    from spined
    left join listed on spined.spine_date = listed.month_date
    left join funded on spined.spine_date = funded.month_date
    left join originated on spined.spine_date = originated.month_date
    left join ledger_monthly on spined.spine_date = ledger_monthly.month_date
    left join fees on spined.spine_date = fees.month_date
    left join book on spined.spine_date = book.month_date
    left join charge_offs on spined.spine_date = charge_offs.month_date
    left join recoveries on spined.spine_date = recoveries.month_date
),

cumulative as (
    select
        *,
        sum(originations_cents) over (order by month_date rows between unbounded preceding and current row)
            as cumulative_originations_cents,
        sum(charged_off_principal_cents) over (order by month_date rows between unbounded preceding and current row)
            as cumulative_charged_off_cents,
        sum(recoveries_cents) over (order by month_date rows between unbounded preceding and current row)
            as cumulative_recoveries_cents,
        charged_off_principal_cents - recoveries_cents as net_charge_offs_cents,
        coalesce(lag(outstanding_principal_cents) over (order by month_date), 0) as opening_principal_cents
    from monthly
)

select
    cast(month_date as date) as month_date,
    cast(loans_listed as integer) as loans_listed,
    cast(loans_funded as integer) as loans_funded,
    cast(funded_volume_cents as bigint) as funded_volume_cents,
    {{ cents_to_dollars('funded_volume_cents') }} as funded_volume,
    cast(originations_count as integer) as originations_count,
    cast(originations_cents as bigint) as originations_cents,
    {{ cents_to_dollars('originations_cents') }} as originations,
    cast(fee_revenue_cents as bigint) as fee_revenue_cents,
    {{ cents_to_dollars('fee_revenue_cents') }} as fee_revenue,
    cast(active_investors as integer) as active_investors,
    cast(active_loans as integer) as active_loans,
    cast(outstanding_principal_cents as bigint) as outstanding_principal_cents,
    {{ cents_to_dollars('outstanding_principal_cents') }} as outstanding_principal,
    cast(charged_off_principal_cents as bigint) as charged_off_principal_cents,
    {{ cents_to_dollars('charged_off_principal_cents') }} as charged_off_principal,
    cast(cumulative_originations_cents as bigint) as cumulative_originations_cents,
    cast(cumulative_charged_off_cents as bigint) as cumulative_charged_off_cents,
    cast(recoveries_cents as bigint) as recoveries_cents,
    {{ cents_to_dollars('recoveries_cents') }} as recoveries,
    cast(net_charge_offs_cents as bigint) as net_charge_offs_cents,
    {{ cents_to_dollars('net_charge_offs_cents') }} as net_charge_offs,
    cast(cumulative_recoveries_cents as bigint) as cumulative_recoveries_cents,
    cast(cumulative_charged_off_cents - cumulative_recoveries_cents as bigint) as cumulative_net_charge_offs_cents,
    {{ ratio('cumulative_charged_off_cents - cumulative_recoveries_cents', 'cumulative_originations_cents') }}
        as loss_rate,
    -- shown to the cent (half a cent dropped); the rate below uses the exact average
    cast({{ int_div('opening_principal_cents + outstanding_principal_cents', '2') }} as bigint)
        as average_outstanding_principal_cents,
    {{ ratio('net_charge_offs_cents * 24', 'opening_principal_cents + outstanding_principal_cents') }}
        as annualized_net_charge_off_rate
from cumulative
