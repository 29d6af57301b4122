"""Continuous training: the retraining pipelines of the model families and what starts them."""
