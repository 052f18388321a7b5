"""The book simulator's parts: outcome rates derived from real LendingClub loans (`rates`), the per-loan
servicing of loans whose history departs from the schedule (`servicing`), and the bulk writer (`writer`).
`pipelines.clone` puts them together."""
