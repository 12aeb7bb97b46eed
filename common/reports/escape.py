"""Formula-injection defence shared by CSV and XLSX (OWASP "CSV injection").

A spreadsheet treats a cell starting with `=`, `+`, `-` or `@` as a formula, and tab or carriage
return can hide such a start from a naive check; customer names, notes and references are typed
by outsiders. A leading apostrophe makes the cell literal text in every spreadsheet program.
Amounts are written as numbers, never as text, so a negative amount is never touched.
"""

from __future__ import annotations

FORMULA_TRIGGERS = frozenset("=+-@\t\r")


def neutralize_formula(text: str) -> str:
    """The text as a cell that no spreadsheet will evaluate."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text
