-- One row per borrower (users with role 'borrower'): who they are, in bands only, and what they borrowed.
-- A borrower without a profile, or without a birthday / income in it, has band 'unknown' (as the API's
-- /reports/borrowers counts them); employment status, housing and country stay null when not given.
with borrowers as (
    select user_id, username from {{ ref('stg_users') }}
    where role = 'borrower'
),

profiles as (
    select user_id, age_band, income_band, employment_status, housing, country
    from {{ ref('stg_user_profiles') }}
),

loans as (
    select
        borrower_id,
        count(*) as loans_count,
        sum(case when disbursed_at is not null then amount_cents else 0 end) as borrowed_cents
    from {{ ref('stg_loans') }}
    group by borrower_id
),

final as (
    select
        borrowers.user_id as borrower_id,
        borrowers.username,
        coalesce(profiles.age_band, 'unknown') as age_band,
        coalesce(profiles.income_band, 'unknown') as income_band,
        profiles.employment_status,
        profiles.housing,
        profiles.country,
        coalesce(loans.loans_count, 0) as loans_count,
        coalesce(loans.borrowed_cents, 0) as borrowed_cents
    from borrowers
    left join profiles on borrowers.user_id = profiles.user_id
    left join loans on borrowers.user_id = loans.borrower_id
)

select
    cast(borrower_id as bigint) as borrower_id,
    cast(username as varchar) as username,
    cast(age_band as varchar) as age_band,
    cast(income_band as varchar) as income_band,
    cast(employment_status as varchar) as employment_status,
    cast(housing as varchar) as housing,
    cast(country as varchar) as country,
    cast(loans_count as integer) as loans_count,
    cast(borrowed_cents as bigint) as borrowed_cents,
    {{ cents_to_dollars('borrowed_cents') }} as borrowed
from final
