"""The ways a host reaches the fake module, in one place. Each talks to the simulator through hostline.HostLine.

- tcp.py: `socket://HOST:PORT`, one client at a time (Simulator.serve_tcp);
- pty.py: a pseudo-terminal any serial program opens (Simulator.serve_pty);
- inprocess.py: an end inside this process (Simulator.attach), what `sim://` reads and writes;
- protocol_sim.py: the `sim://` URL handler pyserial finds (this package is in serial.protocol_handler_packages);
- named.py: `sim://?name=...`, a module in a background process that outlives the program that opened it;
- transcript.py: `--log FILE`, what crossed the wire with its time.

This file imports nothing: pyserial imports the package to find protocol_sim.
"""
