{#- Use the custom schema as-is (staging, intermediate, marts) instead of dbt's `<target>_<custom>`,
    so dashboards read `marts.fct_*` whatever the target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
