{{ config(materialized='incremental', unique_key='account_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}
-- One row per ledger account: the balance the API keeps (debit-positive) next to the sum of the account's
-- postings, which must be equal (assert_account_balances_equal_postings, and the pipeline's
-- balances_match_source check against the API's database), and the balance on the account's normal side.
-- Incremental: a run recomputes, from ALL their postings, only the accounts that have a posting past the
-- published build's mark (published_mark; a payment's return is a new posting, so it is caught like any
-- other) or whose stored row differs from this table's (a new account, a balance or stamp the API moved),
-- and replaces those rows. Every other account has the same postings and the same stored row as when its
-- row was computed, so its row is unchanged. Without a mark (a build of everything, `--full-refresh`) every
-- account is recomputed: the same rows a full build makes (tests/pipelines checks the equivalence).
-- A table built before a column was added (on_schema_change appends it empty) is recomputed whole once.
{% set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list if is_incremental() else [] %}
{% set floor = published_mark('ledger_entries') if 'disbursement_posted_cents' in built_columns else none %}
with accounts as (
    select * from {{ ref('stg_ledger_accounts') }}
    {% if floor is not none %}
    where account_id in (
        select account_id from {{ ref('int_ledger_entries_joined') }} where entry_id > {{ floor }}
        union
        select source.account_id
        from {{ ref('stg_ledger_accounts') }} as source
        left join {{ this }} as built on source.account_id = built.account_id
        where built.account_id is null
            or source.account_type is distinct from built.account_type
            or source.owner_id is distinct from built.owner_id
            or source.investor_id is distinct from built.investor_id
            or source.loan_id is distinct from built.loan_id
            or source.balance_cents is distinct from built.balance_cents
            or source.updated_at is distinct from built.updated_at
    )
    {% endif %}
),

postings as (
    select
        account_id,
        sum(amount_cents) as posted_cents,
        count(*) as postings_count,
        -- what a loan's principal account received at disbursement (the principal originated), so loan
        -- rollups read it here instead of scanning every posting
        sum(case when transaction_kind = 'disbursement' then amount_cents else 0 end) as disbursement_posted_cents
    from {{ ref('int_ledger_entries_joined') }}
    {% if floor is not none %}
    where account_id in (select account_id from accounts)
    {% endif %}
    group by account_id
),

final as (
    select
        accounts.account_id,
        accounts.account_type,
        accounts.owner_id,
        accounts.investor_id,
        accounts.loan_id,
        accounts.balance_cents,
        coalesce(postings.posted_cents, 0) as posted_balance_cents,
        coalesce(postings.postings_count, 0) as postings_count,
        coalesce(postings.disbursement_posted_cents, 0) as disbursement_posted_cents,
        -- processor cash and the loan's principal and interest are debit-normal; the rest credit-normal
        case when accounts.account_type in ('processor_cash', 'loan_principal', 'loan_interest') then 1 else -1 end
            as normal_sign,
        accounts.updated_at
    from accounts
    left join postings on accounts.account_id = postings.account_id
)

select
    cast(account_id as bigint) as account_id,
    cast(account_type as varchar) as account_type,
    cast(owner_id as bigint) as owner_id,
    cast(investor_id as bigint) as investor_id,
    cast(loan_id as bigint) as loan_id,
    cast(balance_cents as bigint) as balance_cents,
    cast(posted_balance_cents as bigint) as posted_balance_cents,
    cast(balance_cents * normal_sign as bigint) as natural_balance_cents,
    {{ cents_to_dollars('balance_cents * normal_sign') }} as natural_balance,
    cast(postings_count as integer) as postings_count,
    cast(updated_at as timestamp) as updated_at,
    cast(disbursement_posted_cents as bigint) as disbursement_posted_cents
from final
