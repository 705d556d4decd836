"""Imports of parties and leads from CSV, XLSX and vCard files: previewed, run in bulk, revertible."""
