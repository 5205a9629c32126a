"""Listening: suggestions, labels, the model, learned routing and their figures."""
