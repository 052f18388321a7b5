-- The platform's cash flows by month, from the ledger: what came in and went out through the payment
-- processor (deposits, withdrawals, disbursements, borrower repayments) and what was passed to investors.
-- net_processor_cash_cents is the change in cash held at the processor. Each movement counts when it is asked
-- for (its kind's posting to processor_in_transit; a simulated book's history posts to processor_cash at once);
-- its settlement later moves it from in transit to processor cash.
with
payments as (
    select
        cast({{ dbt.date_trunc('month', 'payment_date') }} as date) as month_date,
        sum(principal_cents) as principal_repaid_cents,
        sum(interest_cents) as interest_repaid_cents,
        sum(fees_cents) as fees_cents
    from {{ ref('stg_payments') }}
    group by 1
),

-- the ledger's flows per month, kept incrementally (int_ledger_monthly): a month of the whole ledger each
monthly as (
    select
        month_date,
        deposits_cents,
        withdrawals_cents,
        disbursements_cents,
        repayments_cents,
        distributed_to_investors_cents,
        net_processor_cash_cents
    from {{ ref('int_ledger_monthly') }}
),

final as (
    select
        monthly.*,
        coalesce(payments.principal_repaid_cents, 0) as principal_repaid_cents,
        coalesce(payments.interest_repaid_cents, 0) as interest_repaid_cents,
        coalesce(payments.fees_cents, 0) as fees_cents
    from monthly
    left join payments on monthly.month_date = payments.month_date
)

select
    cast(month_date as date) as month_date,
    cast(deposits_cents as bigint) as deposits_cents,
    {{ cents_to_dollars('deposits_cents') }} as deposits,
    cast(withdrawals_cents as bigint) as withdrawals_cents,
    {{ cents_to_dollars('withdrawals_cents') }} as withdrawals,
    cast(disbursements_cents as bigint) as disbursements_cents,
    {{ cents_to_dollars('disbursements_cents') }} as disbursements,
    cast(repayments_cents as bigint) as repayments_cents,
    {{ cents_to_dollars('repayments_cents') }} as repayments,
    cast(principal_repaid_cents as bigint) as principal_repaid_cents,
    {{ cents_to_dollars('principal_repaid_cents') }} as principal_repaid,
    cast(interest_repaid_cents as bigint) as interest_repaid_cents,
    {{ cents_to_dollars('interest_repaid_cents') }} as interest_repaid,
    cast(fees_cents as bigint) as fees_cents,
    {{ cents_to_dollars('fees_cents') }} as fees,
    cast(distributed_to_investors_cents as bigint) as distributed_to_investors_cents,
    {{ cents_to_dollars('distributed_to_investors_cents') }} as distributed_to_investors,
    cast(net_processor_cash_cents as bigint) as net_processor_cash_cents,
    {{ cents_to_dollars('net_processor_cash_cents') }} as net_processor_cash
from final
