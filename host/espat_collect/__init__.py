"""`espat collect`: the HTTP collector the reporter sketches post their readings to, an application beside the espat
library (installed with the `collect` extra; the library never imports it).

contract.json and contract.py are the reading contract; reading.py checks a body (no I/O); schema.py and store.py
are the data layer (SQLAlchemy Core, SQLite or PostgreSQL); formats.py writes stored readings out (JSON, CSV,
server-sent events); writer.py commits in groups; guard.py holds tokens and rate limits; service.py is the running
collector as one object; ingest.py is the POST every reading takes, reads.py the read side and live.py its event
stream, static/ the live page; app.py puts them together as the ASGI app; server.py runs it on uvicorn; cli.py is
the command. Importing this package imports nothing else.
"""
