"""Scoring: pure functions from inventory and answers to explained figures (docs/scoring.md).

No Flask, no database: the services read the rows and store what comes out.
"""
