"""The compiled reporter in simavr on the virtual clock (unosim.lockstep_program): the AVR harness speaks the
lock-step frames, a power cut lands on the Nth EEPROM byte the chip really writes, and the next power-on boots from
what that left and delivers."""
from __future__ import annotations


from esp8266sim import SimConfig
from unosim.lockstep_program import SimavrProgram
from esp8266sim.lockstep import LockStepBoard
from esp8266sim.vclock import VirtualLoop
from simtools import record_posts


def test_a_power_cut_at_the_second_eeprom_byte_then_a_delivery(built, tmp_path):
    loop = VirtualLoop()
    bodies = []
    port = record_posts(loop, bodies)
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", port)}, seed=5)
    board = LockStepBoard(loop, config, SimavrProgram(built / "reporter_softserial" / "firmware.elf", seed=5),
                          adc=lambda t: (215, 314, 5000), usb_log=tmp_path / "usb.txt")
    try:
        board.power_on(mcusr=1, cut_at_byte=2, torn=1)          # the 2nd byte it writes reads erased (0xFF)
        exit = board.run_until(5.0)
        assert exit is not None and exit.reason == "cut" and exit.at < 1.0, exit
        assert board.runs[0].eeprom_bytes == 2
        written = [i for i, n in enumerate(board.cell_writes) if n]
        assert len(written) == 2 and board.eeprom[written[-1]] == 0xFF
        board.run_until(exit.at + 3.0)                          # off for a while
        board.power_on(mcusr=1)
        assert board.run_until(40.0) is None
        assert bodies and all(b'"device":"uno-test"' in body for _, body in bodies), bodies
        assert all(3.0 < at < 40.0 for at, _ in bodies)
    finally:
        board.close()
        loop.close()
