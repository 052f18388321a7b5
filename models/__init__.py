"""Peerlend's credit-risk model: features (`models.features`), training (`python -m models.train`) and the
serving interface (`models.scoring`)."""
