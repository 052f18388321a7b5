"""Credit model monitoring: AUC by vintage, calibration by grade, drift of the grade mix and of every model input."""

import pandas as pd
import streamlit as st

from dashboards import charts, queries, session, ui, views
from dashboards.formatting import month, share
from models import monitoring as M

staff = session.staff_scope()
st.title("Model monitoring")
wh = ui.require_warehouse()
ui.freshness(wh)
vintages = queries.model_by_vintage(wh, staff)
if vintages.empty:
    ui.empty("No loan has been paid out yet, so there is nothing to monitor.")
    st.stop()

outcomes = int(pd.to_numeric(vintages["defaults_count"]).fillna(0).sum())
left, right = st.columns(2)
with left:
    st.subheader("Discrimination: AUC by vintage")
    if vintages["auc"].isna().all():
        ui.empty(
            f"No vintage has both a charged-off and a repaid loan yet ({outcomes} charge-offs so far), so the AUC is "
            "not defined. It appears as loans reach an outcome."
        )
    else:
        st.altair_chart(charts.vintage_metric(vintages, "auc", "AUC", ".2f"), width="stretch")
        st.caption("0.5 is a coin toss; 1.0 ranks every charged-off loan above every repaid one.")
with right:
    st.subheader("Calibration by grade")
    cal = queries.calibration(wh, staff)
    if cal.empty or cal["realised_default_rate"].isna().all():
        ui.empty(
            "Calibration needs loans with an outcome (repaid or charged off). Predicted rates per grade are "
            "listed below until then."
        )
    else:
        st.altair_chart(charts.calibration(cal), width="stretch")
        st.caption("Points on the dashed diagonal are perfectly calibrated: realised default rate = predicted.")
    st.dataframe(
        pd.DataFrame(
            {
                "Grade": cal["grade"],
                "Loans": cal["loans_count"].astype(int),
                "With an outcome": cal["outcomes_count"].astype(int),
                "Charged off": cal["defaults_count"].astype(int),
                "Predicted": cal["predicted_default_rate"].map(lambda v: share(v, 2)),
                "Realised": cal["realised_default_rate"].map(lambda v: share(v, 2)),
            }
        ),
        hide_index=True,
        width="stretch",
    )

st.subheader("Drift")
left, right = st.columns(2)
with left:
    st.altair_chart(charts.vintage_metric(vintages, "grade_psi", "Grade-mix PSI", ".3f"), width="stretch")
    st.caption(
        "Population stability index of each vintage's grade mix against the first three vintages; above 0.25 "
        "usually means the applicants have shifted."
    )
with right:
    st.altair_chart(charts.vintage_metric(vintages, "mean_pd", "Mean probability of default", ".2%"), width="stretch")
    st.caption("The model's average predicted probability of default for the loans paid out each month.")
st.subheader("Drift of every model input")
drift = views.input_drift(wh, staff)
if drift.empty:
    ui.empty(
        "No application scored by the published model has reached the warehouse yet: the drift of its inputs "
        "appears once borrowers apply."
    )
else:
    measured = drift[drift["psi"].notna()]
    if measured.empty:
        ui.empty(
            f"Too few applications scored by the published model so far (PSI needs {M.MIN_ROWS_FOR_PSI} per "
            "input): the bars appear as borrowers apply."
        )
    else:
        st.altair_chart(charts.input_psi(measured, M.PSI_WATCH, M.PSI_DRIFT), width="stretch")
    st.caption(
        "Each input of the published model, this platform's applicants against its training population, over "
        "the training deciles. Income, employment and bureau attributes arrive only as decile bins. Below "
        f"{M.PSI_WATCH} stable, above {M.PSI_DRIFT} drifted (the pipeline's drift check then fails)."
    )
st.dataframe(
    pd.DataFrame(
        {
            "Vintage": vintages["vintage_date"].map(month),
            "Loans": vintages["loans_count"].astype(int),
            "Mean PD": vintages["mean_pd"].map(lambda v: share(v, 2)),
            "AUC": vintages["auc"].map(lambda v: "—" if v is None or v != v else f"{v:.3f}"),
            "Grade PSI": vintages["grade_psi"].map(lambda v: "—" if v is None or v != v else f"{v:.3f}"),
        }
    ),
    hide_index=True,
    width="stretch",
)
