-- The note cash flows derived from loan-level payments and note shares equal the API's stored
-- payment_distributions, row for row and to the cent.
with derived as (
    select payment_id, investment_id, principal_cents, interest_cents from {{ ref('fct_note_cash_flows') }}
),

stored as (
    select payment_id, investment_id, principal_cents, interest_cents from {{ ref('stg_payment_distributions') }}
)

select
    coalesce(derived.payment_id, stored.payment_id) as payment_id,
    coalesce(derived.investment_id, stored.investment_id) as investment_id,
    derived.principal_cents as derived_principal_cents,
    stored.principal_cents as stored_principal_cents,
    derived.interest_cents as derived_interest_cents,
    stored.interest_cents as stored_interest_cents
from derived
full outer join stored on derived.payment_id = stored.payment_id and derived.investment_id = stored.investment_id
-- a payment of fees alone leaves stored rows of zero principal and interest that nothing derives: a row
-- missing on one side counts as zero, so only a cent of difference fails
where coalesce(derived.principal_cents, 0) <> coalesce(stored.principal_cents, 0)
   or coalesce(derived.interest_cents, 0) <> coalesce(stored.interest_cents, 0)
