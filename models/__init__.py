"""Peerlend's credit-risk model.

- ``models.scoring``: the serving interface (``load_scorer().score(...)`` / ``.score_batch(...)``),
- ``models.grades``: grades A-G and their probability-of-default bounds (read by the rate card),
- ``models.bureau``: the sandbox credit bureau and real LendingClub borrowers for simulation,
- ``models.features``: the one feature module shared by training, evaluation and serving,
- ``models.monitoring``: PSI, calibration by grade and AUC by vintage on the platform's own loans,
- ``python -m models.train``: training, evaluation and a new versioned artifact.
"""
