{#- Generic test: a mart's display column `<x>` equals its `<x>_cents` divided by 100, exactly. -#}
{% test dollars_match_cents(model, column_name, cents_column) %}
select {{ column_name }}, {{ cents_column }}
from {{ model }}
where {{ column_name }} is distinct from {{ cents_to_dollars(cents_column) }}
{% endtest %}

{#- Model-level: EVERY display column `<x>` that has an `<x>_cents` sibling equals it divided by 100, in one
    scan of the model (one query per model rather than one per column). -#}
{% test dollars_match_cents_all(model) %}
{%- set names = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list -%}
{%- set pairs = [] -%}
{%- for name in names if name ~ '_cents' in names -%}
    {%- do pairs.append(name) -%}
{%- endfor %}
select *
from {{ model }}
where {% for name in pairs %}{{ name }} is distinct from {{ cents_to_dollars(name ~ '_cents') }}{% if not loop.last %}
   or {% endif %}{% endfor %}{% if not pairs %}false{% endif %}
{% endtest %}
