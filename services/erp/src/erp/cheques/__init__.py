"""Cheques received: the portfolio, its states and postings, its maturity ladder."""
