{#- Generic test: a boolean SQL expression holds on every row (like dbt_utils.expression_is_true). -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not ({{ expression }})
{%- if where_clause %} and ({{ where_clause }}){% endif %}
{% endtest %}
