-- Schedule rows with `is_paid`: the installment was marked paid, or its principal and interest are covered.
select
    installments.*,
    (
        installments.paid_at is not null
        or (
            installments.paid_principal_cents >= installments.principal_cents
            and installments.paid_interest_cents >= installments.interest_cents
        )
    ) as is_paid
from {{ ref('stg_installments') }} as installments
