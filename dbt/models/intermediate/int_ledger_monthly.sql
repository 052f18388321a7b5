{{ config(materialized='incremental', unique_key='month_date', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}
-- The ledger's monthly flows the monthly KPIs and cash flows read (fct_platform_kpis_monthly,
-- fct_cash_flows_monthly), one row per month with postings.
-- Incremental: a run recomputes, from ALL that month's postings, every month that holds a posting past the
-- published build's mark (published_mark), and replaces those months (active investors are distinct per
-- month, so a month is never patched, only recomputed whole). Without a mark every month is recomputed.
{% set floor = published_mark('ledger_entries') if is_incremental() else none %}
with ledger as (
    select
        cast({{ dbt.date_trunc('month', 'posted_date') }} as date) as month_date,
        account_type,
        transaction_kind,
        investor_id,
        amount_cents
    from {{ ref('int_ledger_entries_joined') }}
    {% if floor is not none %}
    where posted_date >= (
        select min(cast({{ dbt.date_trunc('month', 'posted_date') }} as date))
        from {{ ref('int_ledger_entries_joined') }} where entry_id > {{ floor }}
    )
    {% endif %}
)

select
    month_date,
    cast(sum(case when account_type = 'loan_principal' and transaction_kind = 'disbursement' then amount_cents else 0 end)
        as bigint) as originations_cents,
    cast(count(distinct case when transaction_kind in ('deposit', 'withdrawal', 'investment', 'distribution')
        then investor_id end) as integer) as active_investors,
    -- what the ledger credits to the platform's revenue accounts (credit-normal: -sum)
    cast(-sum(case when account_type in ('platform_fee_income', 'platform_servicing_income') then amount_cents else 0 end)
        as bigint) as fee_revenue_cents,
    cast(sum(case when account_type in ('processor_cash', 'processor_in_transit') and transaction_kind = 'deposit'
        then amount_cents else 0 end) as bigint) as deposits_cents,
    cast(-sum(case when account_type in ('processor_cash', 'processor_in_transit') and transaction_kind = 'withdrawal'
        then amount_cents else 0 end) as bigint) as withdrawals_cents,
    cast(-sum(case when account_type in ('processor_cash', 'processor_in_transit') and transaction_kind = 'disbursement'
        then amount_cents else 0 end) as bigint) as disbursements_cents,
    cast(sum(case when account_type in ('processor_cash', 'processor_in_transit') and transaction_kind = 'repayment'
        then amount_cents else 0 end) as bigint) as repayments_cents,
    cast(-sum(case when account_type in ('investor_cash', 'investor_pending_cash') and transaction_kind = 'distribution'
        then amount_cents else 0 end) as bigint) as distributed_to_investors_cents,
    cast(sum(case when account_type = 'processor_cash' then amount_cents else 0 end) as bigint)
        as net_processor_cash_cents
from ledger
group by month_date
