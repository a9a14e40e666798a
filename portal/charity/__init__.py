"""Charity causes players give points to, with running totals per cause, outlet and network."""
