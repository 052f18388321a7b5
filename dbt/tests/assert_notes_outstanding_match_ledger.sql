-- The notes' outstanding principal (investments less principal distributions) adds up, per investor,
-- to the ledger's investor_notes balance.
with notes as (
    select investor_id, sum(outstanding_principal_cents) as notes_outstanding_cents
    from {{ ref('fct_investor_notes') }}
    group by investor_id
)

select portfolios.investor_id, portfolios.outstanding_principal_cents, notes.notes_outstanding_cents
from {{ ref('fct_investor_portfolios') }} as portfolios
left join notes on portfolios.investor_id = notes.investor_id
where portfolios.outstanding_principal_cents <> coalesce(notes.notes_outstanding_cents, 0)
