/* Two UARTs at different rates: the virtual Uno's USB chip (at the rate its host set on the pty) against the
   ATmega's UART (at the rate UBRR0 gives), and the ESP-01 against the UART after AT+UART_CUR. When the rates are
   more than 3 % apart each side reads the other's bytes as junk of about the length a real UART makes of them:
   the rule and the bytes of the fake's own wire (esp8266sim/wire.py, whose table --garbage hands in). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "harness_parts.h"

static uint8_t junk[32] = {0x00, 0x80, 0xF8, 0xFE};
static size_t junk_len = 4;

long uart0_baud(avr_t *avr) {
    unsigned ubrr = avr->data[0xC4] | (unsigned)(avr->data[0xC5] & 0x0F) << 8;     /* UBRR0L, UBRR0H */
    return (long)(avr->frequency / ((avr->data[0xC0] & 0x02 ? 8UL : 16UL) * (ubrr + 1)));   /* U2X0 in UCSR0A */
}

static long speed_baud(speed_t s) {
    static const struct { speed_t code; long rate; } table[] = {
        {B300, 300}, {B600, 600}, {B1200, 1200}, {B2400, 2400}, {B4800, 4800}, {B9600, 9600}, {B19200, 19200},
        {B38400, 38400}, {B57600, 57600}, {B115200, 115200}, {B230400, 230400}, {B460800, 460800},
        {B500000, 500000}, {B576000, 576000}, {B921600, 921600}, {B1000000, 1000000}, {B1152000, 1152000},
        {B1500000, 1500000}, {B2000000, 2000000}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) if (table[i].code == s) return table[i].rate;
    return 0;
}

/* Linux's termios2 carries a rate that has no Bnnn code (pyserial sets 74880 that way, with BOTHER) */
struct termios2_ { tcflag_t c_iflag, c_oflag, c_cflag, c_lflag; cc_t c_line, c_cc[19]; speed_t c_ispeed, c_ospeed; };
#define TCGETS2_ _IOR('T', 0x2A, struct termios2_)

long tty_baud(int fd) {
    struct termios tio;     /* on a pty's master: the slave's settings, what its client asked for */
    long rate = tcgetattr(fd, &tio) == 0 ? speed_baud(cfgetospeed(&tio)) : 0;
    struct termios2_ tio2;
    if (rate == 0 && ioctl(fd, TCGETS2_, &tio2) == 0) rate = (long)tio2.c_ospeed;
    return rate;
}

int rates_differ(long a, long b) { return a > 0 && b > 0 && labs(a - b) * 100 > b * 3; }

int set_junk_bytes(const char *hex) {
    size_t n = 0;
    for (; hex[0] && hex[1] && n < sizeof junk; hex += 2) {
        char pair[3] = {hex[0], hex[1], 0}, *end;
        long b = strtol(pair, &end, 16);
        if (*end) return 0;
        junk[n++] = (uint8_t)b;
    }
    if (n == 0 || *hex) return 0;
    junk_len = n;
    return 1;
}

/* receiver/sender junk bytes a byte (kept in `owed` in fractions), none when the receiver is four times as fast
   and sees no start bit: wire.py's rule, byte by byte */
unsigned junk_count(double *owed, long sender, long receiver) {
    if (receiver >= sender * 4) return 0;
    *owed += (double)receiver / (double)sender;
    unsigned n = (unsigned)*owed;
    *owed -= n;
    return n > 4 ? 4 : n;
}

uint8_t junk_byte(void) { return junk[junk_draw() % junk_len]; }
