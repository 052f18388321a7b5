select
    cast(bin_row_id as bigint) as bin_row_id,
    cast(loan_id as bigint) as loan_id,
    cast(input_name as varchar) as input_name,
    cast(bin_index as integer) as bin_index
from {{ source('raw', 'score_input_bins') }}
