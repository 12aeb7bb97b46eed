"""The measuring machinery: processes, load, /proc readings, results and the table."""
