"""The books proved on every warehouse run: the API's reconciliation job (api/servicing/reconcile.py) as an
asset, and an asset check that fails on any difference."""
