{#- Generic test: no row has a negative value in the column (dbt hub is unreachable, so no dbt_utils). -#}
{% test non_negative(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
