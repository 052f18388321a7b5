-- portfolio_value = cash + committed + outstanding principal, for every investor.
select investor_id, portfolio_value_cents, cash_cents, committed_cents, outstanding_principal_cents
from {{ ref('fct_investor_portfolios') }}
where portfolio_value_cents <> cash_cents + committed_cents + outstanding_principal_cents
