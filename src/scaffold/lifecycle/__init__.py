"""The engine of `update`, `add`, `remove` and `check`: generations, records, plans, merges.

docs/lifecycle.md explains the model; each module here does one step of it.
"""
