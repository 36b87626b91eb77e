"""Tools above the library and the fake, as pyserial keeps serial/tools: the demo (which runs the fake), the
RFC 2217 bridge and the interactive terminal. The library never imports them; the command line does."""
