"""2.x's error subcategories, named: the SS of `ERR CODE:0x01SS0000` that AT+SYSLOG=1 prints before ERROR
[notes 1.4], in esp-at's ESP_AT_SUB_* numbering. The line reader (atline.py) and the command chapters (through
commands/registry.py) refuse with these names, never a bare number."""

__all__ = ["E_AT_CATEGORY", "err_code_line", "E_BUSY", "E_COUNT", "E_FAILED", "E_FORM", "E_LENGTH", "E_NO_AT", "E_PARSE", "E_TYPE", "E_UNKNOWN",
           "E_VALUE"]

E_NO_AT = 0x03          # the line does not start with AT
E_LENGTH = 0x04         # a parameter is too long
E_TYPE = 0x05           # a parameter of the wrong type (a number where text belongs, or the reverse)
E_COUNT = 0x06          # too many or too few parameters
E_VALUE = 0x07          # a parameter out of its range
E_PARSE = 0x08          # the parameters do not parse (an unclosed quote)
E_UNKNOWN = 0x09        # no such command
E_FAILED = 0x0A         # the command ran and failed
E_BUSY = 0x0B           # the previous command is still running
E_FORM = 0x0C           # the command has no such form

E_AT_CATEGORY = 0x01    # the CC of `ERR CODE:0xCCSS0000`: an AT command's own error (ESP_AT_ERROR_NO)


def err_code_line(code: int) -> bytes:
    """The line AT+SYSLOG=1 prints before ERROR for subcategory `code` (one of the E_ names above)."""
    return b"ERR CODE:0x%08x\r\n" % (E_AT_CATEGORY << 24 | code << 16)
