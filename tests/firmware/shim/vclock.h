// Virtual time for the shim (ESPAT_SHIM_VCLOCK=1): the program's clock is a count of microseconds since power-on
// that moves only when the sketch looks at it or waits, and a harness (esp8266sim.native) decides what happens on
// the ESP wire in lock-step with it. Nothing here sleeps: an idle sketch jumps ahead, so a day of field takes
// seconds. The harness is reached through two pipes (fd 3 from it, fd 4 to it, or ESPAT_SHIM_VCLOCK_FDS=R,W) with
// little frames:
//
//   to the harness   'S' sync / 'X' exit: u8 kind, u64 now_us, u8 reason, u32 tx_len, u32 writes, tx bytes,
//                    writes x (u16 address, u8 value): what the sketch sent to the ESP (once the write that sent it
//                    is over: the module hears a request when its last byte has crossed the wire, not its first)
//                    and wrote to EEPROM since the last frame. reason (exit only): 'C' power cut at an EEPROM
//                    byte, 'W' watchdog reset.
//   from the harness 'G' go: u8 kind, u64 horizon_us, u16 a0_mv, u16 temp_mv, u16 vcc_mv, u32 rx_len, rx bytes:
//                    run on until horizon_us at most; these bytes reach the ESP port from now on, one every
//                    10 bits at the port's baud rate; the ADC's inputs hold these millivolts until the next frame.
//
// Time moves by: each look at the clock (millis, micros) a step that grows while nothing happens (4 us up to about
// 33 ms; never past the next byte's arrival, so every byte is seen in time); delay() and delayMicroseconds()
// exactly; a write to the ESP port the bytes' time on the wire (SoftwareSerial and a full UART buffer block the
// sketch that long); an EEPROM byte 3.3 ms (the ATmega328P's write time). Environment: ESPAT_SHIM_EEPROM_CUT=N cuts
// the power while the Nth EEPROM byte of this run is written; ESPAT_SHIM_EEPROM_TORN=0..3 says what that byte holds
// then (0 the old value, 1 erased 0xFF, 2 the new value, 3 the old value's bits ANDed with the new's: a write cut
// between erase and program).
#pragma once
#include <stddef.h>
#include <stdint.h>

bool vclockOn();
void vclockStart();
uint64_t vclockNowUs();
void vclockTick();                  // the sketch looked at the clock
void vclockWaitUs(uint64_t us);     // the sketch waits (delay)
void vclockActivity();              // something happened: the idle step starts small again
void vclockTx(const uint8_t* data, size_t n, unsigned long baud);
size_t vclockRx(uint8_t* out, size_t room);  // bytes that have arrived on the ESP port by now
// Returns the value the cell holds afterwards (the power may be cut in the write: then it does not return).
uint8_t vclockEepromWrite(int address, uint8_t old, uint8_t value);
long vclockAdcMv(int input);        // 0 A0, 1 the chip's temperature sensor, 2 Vcc
[[noreturn]] void vclockExit(char reason);
