"""Incidents, for procurement and risk officers: a recorded vendor breach, its blast radius as of
the start, the rotation checklist, the rotation gap, and closing (by exception only for risk
officers)."""
