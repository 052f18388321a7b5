select
    cast(pull_id as bigint) as pull_id,
    cast(loan_id as bigint) as loan_id,
    cast(user_id as bigint) as user_id,
    cast(bureau as varchar) as bureau,
    cast(inquiry as varchar) as inquiry,
    cast(utilization_band as varchar) as utilization_band,
    cast(inquiries_6m_band as varchar) as inquiries_6m_band,
    cast(delinquencies_2y_band as varchar) as delinquencies_2y_band,
    cast(consent_version as varchar) as consent_version,
    cast(consent_given_at as timestamp) as consent_given_at,
    cast(pulled_at as timestamp) as pulled_at
from {{ source('raw', 'credit_pulls') }}
