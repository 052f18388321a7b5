{#- Generic test: a mart's display column `<x>` equals its `<x>_cents` divided by 100, exactly. -#}
{% test dollars_match_cents(model, column_name, cents_column) %}
select {{ column_name }}, {{ cents_column }}
from {{ model }}
where {{ column_name }} is distinct from {{ cents_to_dollars(cents_column) }}
{% endtest %}
