{{ config(materialized='view') }}
-- One row per note per payment: what each note received, derived on read from the loan-level payments and
-- the notes' shares (int_note_cash_flows_derived), so nothing stores a row per note per payment beyond
-- the API's own payment_distributions, which it is reconciled with to the cent.
select
    cast(payment_id as bigint) as payment_id,
    cast(investment_id as bigint) as investment_id,
    cast(loan_id as bigint) as loan_id,
    cast(investor_id as bigint) as investor_id,
    cast(payment_date as date) as payment_date,
    cast(principal_cents as bigint) as principal_cents,
    {{ cents_to_dollars('principal_cents') }} as principal,
    cast(interest_cents as bigint) as interest_cents,
    {{ cents_to_dollars('interest_cents') }} as interest,
    cast(principal_cents + interest_cents as bigint) as amount_cents,
    {{ cents_to_dollars('principal_cents + interest_cents') }} as amount
from {{ ref('int_note_cash_flows_derived') }}
