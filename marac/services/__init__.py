"""Functions that change data. They flush and audit; the request (or CLI command) commits."""
