-- Realised against predicted default, by vintage, grade and credit model version: the credit model's probability of default at
-- listing next to what happened. Only loans with an outcome (repaid or charged off by the build's day)
-- count as observed; realised_default_rate = charged off / with an outcome. Empty of outcomes until
-- servicing charges loans off (unit-tested on hand-made ones).
with loans as (
    select
        vintage_date,
        grade,
        score_model_version,
        loan_id,
        probability_of_default_ppm,
        max(case when loan_state = 'charged_off' then 1 else 0 end) as is_charged_off,
        max(case when loan_state in ('repaid', 'charged_off') then 1 else 0 end) as has_outcome
    from {{ ref('int_loan_month_states') }}
    group by vintage_date, grade, score_model_version, loan_id, probability_of_default_ppm
),

grouped as (
    select
        vintage_date,
        grade,
        score_model_version,
        count(*) as loans_count,
        sum(probability_of_default_ppm) as predicted_ppm_sum,
        sum(has_outcome) as outcomes_count,
        sum(is_charged_off) as defaults_count,
        sum(case when has_outcome = 1 then probability_of_default_ppm else 0 end) as predicted_ppm_with_outcome_sum
    from loans
    group by vintage_date, grade, score_model_version
)

select
    cast(vintage_date as date) as vintage_date,
    cast(grade as varchar) as grade,
    cast(coalesce(score_model_version, 'unknown') as varchar) as score_model_version,
    cast(loans_count as integer) as loans_count,
    cast(outcomes_count as integer) as outcomes_count,
    cast(defaults_count as integer) as defaults_count,
    {{ ratio('predicted_ppm_sum', 'loans_count * 1000000') }} as predicted_default_rate,
    {{ ratio('predicted_ppm_with_outcome_sum', 'outcomes_count * 1000000') }} as predicted_default_rate_with_outcome,
    {{ ratio('defaults_count', 'outcomes_count') }} as realised_default_rate,
    {{ ratio('predicted_ppm_with_outcome_sum', '1000000') }} as expected_defaults
from grouped
