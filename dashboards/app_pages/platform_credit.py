"""Funding velocity, delinquency and roll rates, and vintage default curves by grade."""

import streamlit as st

from dashboards import charts, queries, session, statuses, ui
from dashboards.formatting import cents, month

staff = session.staff_scope()
st.title("Funding and credit")
wh = ui.require_warehouse()
ui.freshness(wh)
all_months = queries.platform_months(wh, staff)
if all_months.empty:
    ui.empty("No loans in the warehouse yet.")
    st.stop()
with st.container(border=True):
    left, right = st.columns([2, 1])
    with left:
        start, end = ui.month_range(list(all_months["month_date"]), "credit_months")
    with right:
        grades = ui.grade_filter("credit_grades")
st.caption(f"{month(start)} – {month(end)}; {'grades ' + ', '.join(grades) if grades else 'all grades'}.")

st.subheader("Funding velocity")
velocity = queries.funding_velocity(wh, staff, grades, start, end)
if velocity.empty:
    ui.empty("No listings in this period.")
else:
    left, right = st.columns(2)
    with left:
        st.altair_chart(
            charts.by_grade_line(
                velocity,
                "month_date",
                "Month listed",
                "median_hours_to_fund",
                "Median hours from listing to fully funded",
                y_format=",.1f",
            ),
            width="stretch",
        )
    with right:
        st.altair_chart(
            charts.by_grade_line(
                velocity,
                "month_date",
                "Month listed",
                "first_day_share",
                "Share of the amount funded within 24 hours",
                y_format=".0%",
            ),
            width="stretch",
        )

st.subheader("Delinquency")
states = queries.loan_states(wh, staff, grades, start, end)
if states.empty:
    ui.empty("No loan has been paid out in this period yet.")
else:
    st.altair_chart(
        charts.states_over_time(states, list(statuses.STATE_ORDER), dict(statuses.STATE_LABELS)), width="stretch"
    )
    latest = states[states["month_date"] == states["month_date"].max()]
    late = latest[latest["loan_state"].str.startswith("dpd")]
    st.caption(
        f"At the end of {month(latest['month_date'].iloc[0])}: {int(late['loans_count'].sum()):,} loans past due with "
        f"{cents(int(late['outstanding_principal_cents'].sum()))} outstanding, of "
        f"{cents(int(latest['outstanding_principal_cents'].sum()))} in all."
    )

st.subheader("Roll rates")
rolls = queries.roll_rates(wh, staff, start, end)
if rolls.empty:
    ui.empty("Roll rates need two consecutive month ends with loans on the book.")
else:
    st.caption(
        "Of the loans in a state at a month's end (rows), the share in each state one month later, pooled over "
        "the months chosen (all grades)."
    )
    st.altair_chart(charts.roll_matrix(rolls, list(statuses.STATE_ORDER), dict(statuses.STATE_LABELS)), width="stretch")

st.subheader("Vintage default curves")
curves = queries.vintage_curves(wh, staff, grades, start, end)
if curves.empty:
    ui.empty("No vintage in this period yet.")
else:
    st.caption(
        "Cumulative share of loans charged off by months since they were paid out, per grade, pooled over the "
        "vintages (months paid out) chosen."
    )
    left, right = st.columns(2)
    with left:
        st.altair_chart(
            charts.by_grade_line(
                curves,
                "months_on_book",
                "Months on book",
                "cumulative_default_rate",
                "Cumulative default rate",
                y_format=".1%",
            ),
            width="stretch",
        )
    with right:
        st.altair_chart(
            charts.by_grade_line(
                curves,
                "months_on_book",
                "Months on book",
                "delinquent_30_plus_share",
                "Share more than 30 days past due",
                y_format=".1%",
            ),
            width="stretch",
        )
