{{ config(materialized='incremental', unique_key='investor_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}
-- depends_on: {{ ref('int_ledger_entries_joined') }}, {{ ref('stg_ledger_transactions') }}
-- One row per investor: ledger-derived balances plus note activity.
-- portfolio_value = cash + committed + outstanding principal.
-- Incremental: a run recomputes only the investors with an input changed since the published build
-- (changed_investors) and replaces their rows; any other investor's inputs, and so its row, are as they
-- were. Nothing here depends on the platform day, and investors are never deleted. Without a published
-- build, or on `--full-refresh`, every investor is recomputed: the same rows a full build makes
-- (tests/pipelines checks the equivalence).
{% set floors = {
    'entries': published_mark('ledger_entries'), 'transactions': published_mark('ledger_transactions'),
    'distributions': published_mark('payment_distributions'),
} if is_incremental() else {} %}
{% set narrow = is_incremental() and none not in floors.values() %}
with
{% if narrow %}
new_transactions as (
    -- a note placed, issued, cancelled or released, or a payment made, returned or re-allocated, since: each is
    -- a ledger transaction naming it (notes and payments change status after insert, so their raw tables have
    -- no mark of their own)
    select investment_id, payment_id from {{ ref('stg_ledger_transactions') }}
    where transaction_id > {{ floors['transactions'] }}
),

changed_investors as (
    select investor_id from {{ ref('int_ledger_entries_joined') }}
    where entry_id > {{ floors['entries'] }} and investor_id is not null
    union
    select investor_id from {{ ref('stg_investments') }}
    where investment_id in (select investment_id from new_transactions)
    union
    select investor_id from {{ ref('stg_payment_distributions') }}
    where distribution_id > {{ floors['distributions'] }}
        or payment_id in (select payment_id from new_transactions)
    union
    select investors.investor_id
    from {{ ref('stg_investors') }} as investors
    left join {{ this }} as built on investors.investor_id = built.investor_id
    where built.investor_id is null
),
{% endif %}

investors as (
    select * from {{ ref('stg_investors') }}
    {% if narrow %}where investor_id in (select investor_id from changed_investors){% endif %}
),

balances as (
    select * from {{ ref('int_investor_balances_summed') }}
    {% if narrow %}where investor_id in (select investor_id from changed_investors){% endif %}
),

notes as (
    select
        investor_id,
        cast(sum(amount_cents) as bigint) as total_invested_cents,
        count(*) as notes_count,
        count(distinct loan_id) as loans_count
    from {{ ref('stg_investments') }}
    {% if narrow %}where investor_id in (select investor_id from changed_investors){% endif %}
    group by investor_id
),

received as (
    -- settled payments only: a returned payment's distributions were reversed
    select distributions.investor_id, cast(sum(distributions.principal_cents) as bigint) as principal_received_cents
    from {{ ref('stg_payment_distributions') }} as distributions
    inner join {{ ref('stg_payments') }} as payments on distributions.payment_id = payments.payment_id
    where payments.payment_status = 'settled'
    {% if narrow %}and distributions.investor_id in (select investor_id from changed_investors){% endif %}
    group by distributions.investor_id
),

final as (
    select
        investors.investor_id,
        investors.user_id,
        investors.username,
        coalesce(balances.cash_cents, 0) as cash_cents,
        coalesce(balances.committed_cents, 0) as committed_cents,
        coalesce(balances.outstanding_principal_cents, 0) as outstanding_principal_cents,
        coalesce(received.principal_received_cents, 0) as principal_received_cents,
        coalesce(balances.interest_received_cents, 0) as interest_received_cents,
        coalesce(notes.total_invested_cents, 0) as total_invested_cents,
        coalesce(notes.notes_count, 0) as notes_count,
        coalesce(notes.loans_count, 0) as loans_count
    from investors
    left join balances on investors.investor_id = balances.investor_id
    left join notes on investors.investor_id = notes.investor_id
    left join received on investors.investor_id = received.investor_id
)

select
    cast(investor_id as bigint) as investor_id,
    cast(user_id as bigint) as user_id,
    cast(username as varchar) as username,
    cast(cash_cents as bigint) as cash_cents,
    {{ cents_to_dollars('cash_cents') }} as cash,
    cast(committed_cents as bigint) as committed_cents,
    {{ cents_to_dollars('committed_cents') }} as committed,
    cast(outstanding_principal_cents as bigint) as outstanding_principal_cents,
    {{ cents_to_dollars('outstanding_principal_cents') }} as outstanding_principal,
    cast(principal_received_cents as bigint) as principal_received_cents,
    {{ cents_to_dollars('principal_received_cents') }} as principal_received,
    cast(interest_received_cents as bigint) as interest_received_cents,
    {{ cents_to_dollars('interest_received_cents') }} as interest_received,
    cast(total_invested_cents as bigint) as total_invested_cents,
    {{ cents_to_dollars('total_invested_cents') }} as total_invested,
    cast(cash_cents + committed_cents + outstanding_principal_cents as bigint) as portfolio_value_cents,
    {{ cents_to_dollars('cash_cents + committed_cents + outstanding_principal_cents') }} as portfolio_value,
    cast(notes_count as integer) as notes_count,
    cast(loans_count as integer) as loans_count
from final
