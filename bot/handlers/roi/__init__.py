"""/roi: the figures, the maturity score, objectives, and how they are shown."""
