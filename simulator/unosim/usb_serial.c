/* The Uno's USB chip on UART0: this program's stdin/stdout (a sketch run), or, as the virtual Uno behind
 * `espat uno` (--usb-pty), a pseudo-terminal whose path goes out on stdout as `usb-pty PATH`. Opening the port
 * resets the board (the USB chip's DTR pulse), as does avrdude's STK500 sync while the sketch runs. The port follows
 * the host's rate as a real Uno's USB chip does: a host at another rate than the UART's reads junk and sends junk
 * (line_rates.c). With the ESP-01 on pins 0/1 pin 1 drives both the ESP's RX and the USB chip's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "uno.h"

int usb_in = STDIN_FILENO, usb_out = STDOUT_FILENO;
int usb_pty = 0;
int usb_connected = 1;
static long host_baud;              /* the rate the USB pty's client set (0: unknown) */
/* junk bytes owed per direction, in fractions carried from byte to byte; a burst's first byte always makes one
   (its start bit is an edge) */
static double junk_up = 1, junk_down = 1;

static void usb_put(uint8_t b) {
    if (usb_pty) { if (write(usb_out, &b, 1) < 0) { /* the reader went away; its next open resets the board */ } }
    else write_all(usb_out, &b, 1);
}

static void to_usb(uint8_t b) {
    if (!usb_connected) return;     /* a closed port drops what the board sends, as the USB chip does */
    if (usb_pty) host_baud = tty_baud(usb_out);     /* each byte at the rate the host has now, not a while ago */
    if (!usb_pty || !rates_differ(host_baud, uart0_baud(avr))) { usb_put(b); junk_down = 1; return; }
    for (unsigned n = junk_count(&junk_down, uart0_baud(avr), host_baud); n > 0; n--) usb_put(junk_byte());
}

void uart0_output(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)param;
    if (!esp_on_uart0) { to_usb((uint8_t)value); return; }
    if (in_bootloader() && usb_pty) { to_usb((uint8_t)value); return; }  /* the ESP ignores an upload */
    esp_hears_uart0((uint8_t)value);
    if (usb_pty) to_usb((uint8_t)value);  /* pin 1 drives the ESP's RX and the USB chip's alike */
}

/* The virtual Uno's USB port: opening it resets the board (DTR), as does avrdude's sync while the sketch runs. */
static void read_usb(void) {
    uint8_t buf[256];
    ssize_t n = read(usb_in, buf, sizeof buf);
    if (n <= 0) return;
    if (!in_bootloader() && n == 2 && buf[0] == 0x30 && buf[1] == 0x20) {  /* STK_GET_SYNC, CRC_EOP */
        reset_pending = EXTRF;
        return;
    }
    if (esp_on_uart0 && !in_bootloader()) return;   /* the ESP drives RX; what the USB chip sends collides */
    int differ = rates_differ(host_baud, uart0_baud(avr));
    for (ssize_t i = 0; i < n && !queue_full(&to_uart0); i++) {
        if (!differ) { queue_put(&to_uart0, buf[i]); junk_up = 1; continue; }
        for (unsigned k = junk_count(&junk_up, host_baud, uart0_baud(avr)); k > 0 && !queue_full(&to_uart0); k--)
            queue_put(&to_uart0, junk_byte());
    }
}

void watch_usb_port(void) {
    struct pollfd p = {usb_out, POLLIN, 0};
    poll(&p, 1, 0);
    int connected = !(p.revents & POLLHUP);
    if (connected && !usb_connected) reset_pending = EXTRF;
    usb_connected = connected;
    if (connected) host_baud = tty_baud(usb_out);
    if (connected && (p.revents & POLLIN)) {
        /* control lines first: one sent before the host could have seen a byte (`esp-baud` as the module's OK to
           AT+UART_CUR left it) takes effect before whatever the host sends after that byte */
        if (stdin_open) read_control();
        read_usb();
    }
}

int open_usb_pty(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        fprintf(stderr, "uno_harness: no pseudo-terminal: %s\n", strerror(errno));
        exit(3);
    }
    const char *path = ptsname(master);
    /* raw before anyone opens it, or the line discipline echoes the board's output back into its receiver */
    int slave = open(path, O_RDWR | O_NOCTTY);
    struct termios tio;
    if (slave < 0 || tcgetattr(slave, &tio) != 0) {
        fprintf(stderr, "uno_harness: cannot set up %s: %s\n", path, strerror(errno));
        exit(3);
    }
    cfmakeraw(&tio);
    tcsetattr(slave, TCSANOW, &tio);
    close(slave);
    fcntl(master, F_SETFL, O_NONBLOCK);
    printf("usb-pty %s\n", path);
    fflush(stdout);
    return master;
}
