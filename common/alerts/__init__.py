"""Alerts: the catalogue (catalogue.yaml), the shape every alert takes
(model), detection in the functions, publishing, and what the router does."""
