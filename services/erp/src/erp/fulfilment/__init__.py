"""Fulfilment: what a won deal needs made or bought (work orders, purchase needs) and the product fields behind it."""
