-- Each disbursed loan's delinquency as of the build's platform day: the oldest past-due installment and
-- how many days it is late (0 when nothing is past due), by the API's rule (int_installments_flagged).
select
    loan_id,
    cast(count(case when is_past_due then 1 end) as integer) as past_due_installments_count,
    cast(max(days_past_due) as integer) as days_past_due,
    cast(sum(case when is_past_due then due_cents - paid_cents else 0 end) as bigint) as past_due_cents,
    min(case when not is_paid then due_date end) as next_due_date
from {{ ref('int_installments_flagged') }}
group by loan_id
