"""The virtual Uno's wires to the fake ESP-01 beyond RX and TX: its RST and CH_PD pins, and the rate of the line.

A sketch that pulls RST (or CH_PD) low holds the module in reset, as on the bench: deaf and silent, RAM rebuilt
from flash; releasing the pin boots it, and it says `ready`. After `AT+UART_CUR` the module talks at the new rate
and the board's end of the wire follows it, so a sketch that keeps its old rate reads junk, as on hardware. The
harness is told how many bytes the module had sent when it switched: it hears of the switch on its stdin, and the
last bytes at the old rate may come through the socket after that line.
"""
from __future__ import annotations

from esp8266sim.simulator import Simulator

from .board import Uno

__all__ = ["wire_to_fake"]


def wire_to_fake(board: Uno, sim: Simulator) -> None:
    """Connect `board`'s ESP pins and ESP line rate to the fake module in `sim` (before `board.start()`)."""
    levels = {"rst": 1, "ch_pd": 1}

    def on_pin(name: str, level: int) -> None:      # the harness's reader thread
        sim.call(pin_changed, name, level)

    def pin_changed(name: str, level: int) -> None:   # the simulator's loop
        running = all(levels.values())
        levels[name] = level
        if running and not all(levels.values()):
            sim.module.reset(wake=False)
        elif not running and all(levels.values()):
            sim.module.boot(sim.config.latency("boot"))

    def rate_changed(baud: int) -> None:              # the simulator's loop, once the old rate's bytes are out
        board.set_esp_baud(baud, after=sim.host_sent)

    board.on_esp_pin = on_pin
    sim.call(sim.wire.rate_listeners.append, rate_changed)
