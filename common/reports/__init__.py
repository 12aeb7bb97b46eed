"""Reports shared by every service (issue 15): the result envelope, CSV and XLSX exports written
streaming, schedules as data with their pure date arithmetic, and delivery of a link by e-mail.

Each service computes its own figures from its own data; this package only shapes, exports,
schedules and delivers them. Formulas and rounding rules are in docs/reports.md.
"""
