"""The credit-risk model as data assets: train a candidate, evaluate it against the current version, publish it
only when it is better; and watch the published model on the platform's own loans."""
