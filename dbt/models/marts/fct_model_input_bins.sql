-- How many applications fell in each decile bin of each model input, by the credit model version that scored
-- them and the month they applied: the population the model sees now, to compare (PSI) with the training
-- population stored in that version's artifact. Bins, not values: income and the bureau's attributes never
-- reach the warehouse.
with binned as (
    select
        loans.score_model_version,
        cast({{ dbt.date_trunc('month', 'loans.created_at') }} as date) as application_month_date,
        bins.input_name,
        bins.bin_index
    from {{ ref('stg_score_input_bins') }} as bins
    inner join {{ ref('stg_loans') }} as loans on bins.loan_id = loans.loan_id
)

select
    cast(score_model_version as varchar) as score_model_version,
    cast(application_month_date as date) as application_month_date,
    cast(input_name as varchar) as input_name,
    cast(bin_index as integer) as bin_index,
    cast(count(*) as integer) as applications_count
from binned
group by score_model_version, application_month_date, input_name, bin_index
