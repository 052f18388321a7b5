select
    cast(user_id as bigint) as user_id,
    cast(age_band as varchar) as age_band,
    cast(income_band as varchar) as income_band,
    cast(employment_status as varchar) as employment_status,
    cast(employment_length_years as integer) as employment_length_years,
    cast(housing as varchar) as housing,
    cast(risk_preference as varchar) as risk_preference,
    cast(country as varchar) as country,
    cast(updated_at as timestamp) as updated_at
from {{ source('raw', 'user_profiles') }}
