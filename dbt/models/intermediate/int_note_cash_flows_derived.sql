-- Note cash flows derived from loan-level payments and note shares, by the API's split rule
-- (api/payments/split.py, applied in api/payments/service.py): each payment's principal and interest
-- are split across the loan's notes pro rata to each note's outstanding principal before the payment
-- (its amount when no note has any left), largest remainder, ties to the older note. Outstanding before a
-- payment uses the principal the stored distributions credited earlier, so a match with the stored
-- payment_distributions on every row proves every step of the chain (assert_note_cash_flows_match_distributions).
-- Rows that would be zero are dropped, as the API stores none.
with notes as (
    select investment_id, loan_id, investor_id, amount_cents from {{ ref('stg_investments') }}
),

payments as (
    select payment_id, loan_id, payment_date, principal_cents, interest_cents, payment_status
    from {{ ref('stg_payments') }}
),

stored as (
    select payment_id, investment_id, principal_cents from {{ ref('stg_payment_distributions') }}
),

note_payments as (
    select
        payments.payment_id,
        payments.loan_id,
        payments.payment_date,
        payments.principal_cents as payment_principal_cents,
        payments.interest_cents as payment_interest_cents,
        notes.investment_id,
        notes.investor_id,
        notes.amount_cents,
        -- a returned (or superseded) payment's distribution was reversed: it credits no note any more
        case when payments.payment_status = 'settled' then coalesce(stored.principal_cents, 0) else 0 end
            as credited_principal_cents
    from payments
    inner join notes on payments.loan_id = notes.loan_id
    left join stored on payments.payment_id = stored.payment_id and notes.investment_id = stored.investment_id
),

outstanding as (
    select
        *,
        amount_cents - coalesce(sum(credited_principal_cents) over (
            partition by investment_id order by payment_id rows between unbounded preceding and 1 preceding
        ), 0) as outstanding_before_cents
    from note_payments
),

weighted as (
    select
        *,
        case when sum(outstanding_before_cents) over (partition by payment_id) = 0
            then amount_cents else outstanding_before_cents end as weight
    from outstanding
),

floored as (
    select
        *,
        sum(weight) over (partition by payment_id) as weight_sum,
        {{ int_div('payment_principal_cents * weight', 'sum(weight) over (partition by payment_id)') }}
            as principal_floor_cents,
        {{ int_div('payment_interest_cents * weight', 'sum(weight) over (partition by payment_id)') }}
            as interest_floor_cents
    from weighted
),

ranked as (
    select
        *,
        payment_principal_cents - sum(principal_floor_cents) over (partition by payment_id) as principal_left_cents,
        payment_interest_cents - sum(interest_floor_cents) over (partition by payment_id) as interest_left_cents,
        row_number() over (
            partition by payment_id order by (payment_principal_cents * weight) % weight_sum desc, investment_id
        ) as principal_rank,
        row_number() over (
            partition by payment_id order by (payment_interest_cents * weight) % weight_sum desc, investment_id
        ) as interest_rank
    from floored
),

split as (
    select
        payment_id,
        investment_id,
        loan_id,
        investor_id,
        payment_date,
        cast(principal_floor_cents + case when principal_rank <= principal_left_cents then 1 else 0 end as bigint)
            as principal_cents,
        cast(interest_floor_cents + case when interest_rank <= interest_left_cents then 1 else 0 end as bigint)
            as interest_cents
    from ranked
)

select * from split
where principal_cents <> 0 or interest_cents <> 0
