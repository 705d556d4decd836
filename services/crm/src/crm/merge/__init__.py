"""Likely duplicate parties, and merging them into one survivor."""
