"""Extract assets: the API's tables copied into the warehouse's `raw` schema."""
