"""PlatformIO extra script of the HTTP reporters (platformio.ini): links without avr-libc's start files, whose
place firmware/src/reporter/avr_start.S takes (a vector table that ends at the last vector used, a shorter exit)."""
Import("env")  # noqa: F821  (SCons provides it)

env.Append(LINKFLAGS=["-nostartfiles"])  # noqa: F821
