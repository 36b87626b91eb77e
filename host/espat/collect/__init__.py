"""`espat collect`: the HTTP collector the reporter sketches post their readings to.

reading.py checks a body (no I/O); schema.py and store.py are the data layer (SQLAlchemy Core, SQLite or
PostgreSQL); writer.py commits in groups; guard.py holds tokens and rate limits; app.py is the ASGI app, live.py its
event stream, static/ the live page; server.py runs it on uvicorn; cli.py is the command. Importing this package
imports nothing else.
"""
