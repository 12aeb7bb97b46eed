"""Generated datasets of stated size: a receivables portfolio loaded with COPY, and open-item CSV
files in the layout of the shared sample file."""
