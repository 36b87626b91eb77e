"""The sans-I/O AT protocol core: bytes in, typed events out; commands in, exact bytes out. Nothing here opens a
port, a socket or a thread, or sleeps (tests/arch/test_sans_io_core.py holds it so).

- `events`: what the module says, one dataclass per kind; `parser.Parser` turns its bytes into them, one reader
  object per framed payload (+IPD, +CIPRECVDATA).
- `session.Session`: a command's life and the link table, with the reply rules at the top of the file.
- `commands` builds the exact bytes of each command, `framing` cuts a payload into CIPSEND chunks, `dialects`
  holds what differs between AT 1.7 and 2.x, `records` the replies and link records, `wiretext` how wire bytes
  are shown (escaped, passwords redacted).
"""
