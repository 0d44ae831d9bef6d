"""Findings, for procurement (reading) and risk officers (writing): the list, one finding with
its notes, files and risk acceptances, manual findings, status changes, accepting a risk."""
