"""Exports of party, lead and deal lists to CSV, XLSX, PDF and (people) vCard."""
