"""Reusable Pulumi components of the MLOps platform."""
