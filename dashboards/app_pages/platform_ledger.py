"""Ledger reconciliation: every account's stored balance against the sum of its postings (warehouse), and the
API's live trial balance for admins."""

import pandas as pd
import streamlit as st

from dashboards import queries, session, ui
from dashboards.formatting import cents, money

staff = session.staff_scope()
st.title("Ledger reconciliation")
wh = ui.warehouse()
if wh is not None:
    ui.freshness(wh)
    recon = queries.ledger_reconciliation(wh, staff)
    mismatched = int(recon["mismatched_count"].sum()) if not recon.empty else 0
    total = int(recon["balance_cents"].sum()) if not recon.empty else 0
    if recon.empty:
        ui.empty("The warehouse holds no ledger accounts yet.")
    elif mismatched == 0 and total == 0:
        st.success(
            f"Reconciled: all {int(recon['accounts_count'].sum()):,} accounts' balances equal the sum of their "
            "postings, and the ledger sums to zero.",
            icon=":material/task_alt:",
        )
    else:
        st.error(
            f"Not reconciled: {mismatched:,} account(s) differ from their postings; the ledger sums to {cents(total)}.",
            icon=":material/report:",
        )
    if not recon.empty:
        st.dataframe(
            pd.DataFrame(
                {
                    "Account type": recon["account_type"],
                    "Accounts": recon["accounts_count"].map(lambda n: f"{int(n):,}"),
                    "Balance (natural side)": recon["natural_balance_cents"].map(lambda c: cents(int(c))),
                    "Differ from postings": recon["mismatched_count"].astype(int),
                }
            ),
            hide_index=True,
            width="stretch",
            column_config=ui.table_config(**{"Accounts": "right", "Balance (natural side)": "right"}),
        )

st.subheader("Live trial balance (API)")
if staff.role != "admin":
    st.caption("The API's live trial balance is for admins; the warehouse check above covers every account.")
    st.stop()
trial = ui.call(lambda: session.api().trial_balance())
if trial is not None:
    ok = not trial["unbalanced_transactions"] and not trial["balance_mismatches"] and money(trial["total"]) == "$0.00"
    (st.success if ok else st.error)(
        f"Ledger total {money(trial['total'])}; {len(trial['unbalanced_transactions'])} unbalanced transaction(s); "
        f"{len(trial['balance_mismatches'])} balance mismatch(es).",
        icon=":material/task_alt:" if ok else ":material/report:",
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Account": [a["code"] for a in trial["accounts"]],
                "Type": [a["account_type"] for a in trial["accounts"]],
                "Balance": [money(a["balance"]) for a in trial["accounts"]],
            }
        ),
        hide_index=True,
        width="stretch",
        height=300,
        column_config=ui.table_config(Balance="right"),
    )
