{#-
  The per-loan rollups behind int_loan_payments_summed, int_loan_balances_summed and int_loan_delinquency,
  each the one home of its rule. `loans` is an optional SQL query of loan ids: given, the rollup reads only
  those loans' rows. It is here and not a filter on the view because DuckDB does not push a semi-join on
  the key below a view's GROUP BY: an incremental mart that asks a view for a few thousand loans would
  still aggregate every loan's rows (fct_borrower_loans).
-#}

{% macro loan_filter(loans, column='loan_id') -%}
    {%- if loans is not none %} and {{ column }} in ({{ loans }}){% endif -%}
{%- endmacro %}

{#- Borrower payments per loan, settled ones only (a returned payment was reversed in the ledger). -#}
{% macro loan_payments_summed(loans=none) %}
select
    loan_id,
    cast(sum(principal_cents) as bigint) as principal_repaid_cents,
    cast(sum(interest_cents) as bigint) as interest_paid_cents,
    cast(sum(fees_cents) as bigint) as fees_paid_cents,
    cast(sum(amount_cents) as bigint) as repaid_cents,
    cast(count(*) as integer) as payments_count,
    max(payment_date) as last_payment_date
from {{ ref('stg_payments') }}
where payment_status = 'settled'{{ loan_filter(loans) }}
group by loan_id
{% endmacro %}

{#-
  Each loan's ledger balances: principal still owed, interest paid through, collections not yet distributed,
  and the principal originated (what its principal account received at disbursement). All are sums of each
  loan account's postings, which fct_ledger_account_balances already holds per account (kept
  incrementally), so they are summed over the loan's few accounts rather than over every posting. One row
  per loan with any posting.
-#}
{% macro loan_balances_summed(loans=none) %}
select
    loan_id,
    cast(sum(case when account_type = 'loan_principal' then posted_balance_cents else 0 end) as bigint)
        as outstanding_principal_cents,
    cast(sum(case when account_type = 'loan_interest' then posted_balance_cents else 0 end) as bigint)
        as interest_paid_cents,
    cast(-sum(case when account_type = 'loan_collections' then posted_balance_cents else 0 end) as bigint)
        as undistributed_collections_cents,
    cast(sum(case when account_type = 'loan_principal' then disbursement_posted_cents else 0 end) as bigint)
        as originated_cents
from {{ ref('fct_ledger_account_balances') }}
where loan_id is not null{{ loan_filter(loans) }}
group by loan_id
having sum(postings_count) > 0
{% endmacro %}

{#-
  Each disbursed loan's delinquency as of the build's platform day: the oldest past-due installment and how
  many days it is late (0 when nothing is past due), by the API's rule (int_installments_flagged).
-#}
{% macro loan_delinquency(loans=none) %}
select
    loan_id,
    cast(count(case when is_past_due then 1 end) as integer) as past_due_installments_count,
    cast(max(days_past_due) as integer) as days_past_due,
    cast(sum(case when is_past_due then due_cents - paid_cents else 0 end) as bigint) as past_due_cents,
    min(case when not is_paid then due_date end) as next_due_date
from {{ ref('int_installments_flagged') }}
where true{{ loan_filter(loans) }}
group by loan_id
{% endmacro %}
