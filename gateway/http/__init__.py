"""The HTTP/JSON front door (Starlette on uvicorn)."""
