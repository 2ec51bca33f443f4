"""Prefect flows: orchestration only; each @flow reads top to bottom."""
