/* The ESP-01's wire: a TCP connection to the fake module (or, in lock-step, a hook), to SoftwareSerial on pins 2/3
 * or to UART0 on pins 0/1, at the module's rate, which follows AT+UART_CUR (the control line `esp-baud N`).
 *
 * SoftwareSerial has no peripheral to hook: the Uno's TX pin is decoded by sampling it in the middle of each bit
 * with cycle timers, and its RX pin is driven bit by bit from a self-rescheduling cycle timer; the pin-change
 * interrupt SoftwareSerial listens to follows from the pin level. Bit positions are kept as fractions of cycles
 * (1666.67 cycles a bit at 9600 baud), never as a rounded period that would drift.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <simavr/avr_ioport.h>

#include "uno.h"

int esp_fd = -1;
int esp_on_uart0 = 0;
long esp_baud = 9600;
static long esp_baud_next;          /* a change that waits until the bytes sent at the old rate are through */
static unsigned long long esp_read; /* bytes read from the module's socket so far */
static unsigned long long esp_baud_after;   /* how many of them were sent at the old rate */
int esp_open = 1;
queue_t to_soft_rx;
FILE *wire_log;
void (*esp_tx_hook)(uint8_t);
static double bit_cycles;           /* cycles per bit on the SoftwareSerial link */
/* junk bytes owed per direction, in fractions carried from byte to byte; a burst's first byte always makes one
   (its start bit is an edge) */
static double junk_to_esp = 1, junk_from_esp = 1;
static avr_irq_t *pd2_irq, *pd3_irq;

static void log_wire(char direction, uint8_t b) {
    if (wire_log) fprintf(wire_log, "%c %.1f %02X\n", direction, (double)(cycle_base + avr->cycle) / 16.0, b);
}

void to_esp(uint8_t b) {
    if (esp_tx_hook) esp_tx_hook(b);
    else write_all(esp_fd, &b, 1);
}

/* on pins 0/1 the ESP hears the UART at its own rate */
void esp_hears_uart0(uint8_t b) {
    if (rates_differ(esp_baud, uart0_baud(avr))) {
        for (unsigned n = junk_count(&junk_to_esp, uart0_baud(avr), esp_baud); n > 0; n--) to_esp(junk_byte());
    } else {
        to_esp(b);
        junk_to_esp = 1;
    }
}

/* --- SoftwareSerial TX (the Uno's PD3) decoded ---------------------------------------------------------------- */

static int pd3_level = 1;
static int tx_busy = 0, tx_bit = 0;
static uint8_t tx_byte;
static double tx_next;              /* absolute cycle (fractional) of the next sample */
static double tx_start_us;

static avr_cycle_count_t tx_sample(avr_t *a, avr_cycle_count_t when, void *param) {
    (void)param; (void)when;
    if (tx_bit < 8) {
        if (pd3_level) tx_byte |= (uint8_t)(1u << tx_bit);
        tx_bit++;
        tx_next += bit_cycles;
        return (avr_cycle_count_t)tx_next;
    }
    /* stop bit: a low line here is a framing error; the byte is passed on as a real receiver would */
    to_esp(tx_byte);
    if (wire_log) fprintf(wire_log, "T %.1f %02X\n", tx_start_us, tx_byte);
    tx_busy = 0;
    (void)a;
    return 0;
}

static void pd3_change(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)param;
    int level = value ? 1 : 0;
    if (pd3_level == 1 && level == 0 && !tx_busy) {     /* falling edge on an idle line: a start bit */
        tx_busy = 1;
        tx_bit = 0;
        tx_byte = 0;
        tx_start_us = (double)(cycle_base + avr->cycle) / 16.0;
        tx_next = (double)avr->cycle + bit_cycles * 1.5;
        avr_cycle_timer_register(avr, (avr_cycle_count_t)(tx_next - (double)avr->cycle), tx_sample, NULL);
    }
    pd3_level = level;
}

/* --- SoftwareSerial RX (the Uno's PD2) driven ----------------------------------------------------------------- */

static int rx_busy = 0, rx_bit = 0;
static uint16_t rx_frame;
static double rx_next;

static avr_cycle_count_t rx_clock(avr_t *a, avr_cycle_count_t when, void *param) {
    (void)param; (void)when; (void)a;
    if (rx_bit >= 10) {                 /* the stop bit is done: the next start bit follows it directly */
        if (queue_empty(&to_soft_rx)) {
            rx_busy = 0;
            return 0;
        }
        rx_frame = (uint16_t)(0x200 | ((uint16_t)queue_get(&to_soft_rx) << 1));
        rx_bit = 0;
        log_wire('R', (uint8_t)(rx_frame >> 1));
    }
    avr_raise_irq(pd2_irq, (rx_frame >> rx_bit) & 1);  /* start bit, 8 data bits LSB first, stop bit */
    rx_bit++;
    rx_next += bit_cycles;
    return (avr_cycle_count_t)rx_next;
}

void feed_soft_rx(void) {
    if (rx_busy || queue_empty(&to_soft_rx)) return;
    rx_busy = 1;
    rx_frame = (uint16_t)(0x200 | ((uint16_t)queue_get(&to_soft_rx) << 1));
    rx_bit = 0;
    log_wire('R', (uint8_t)(rx_frame >> 1));
    rx_next = (double)avr->cycle + 1;
    avr_cycle_timer_register(avr, 1, rx_clock, NULL);
}

/* --- the module's side ------------------------------------------------------------------------------------------ */

/* What the module sends: to UART0 as junk when the sketch's rate is not the module's, as a real UART reads it.
   While a new rate waits, nothing past the bytes of the old rate is read: they are through first, then the
   wire follows (follow_esp_baud), then the bytes of the new rate are read at the new rate. */
void read_esp(void) {
    size_t most = !esp_baud_next ? SIZE_MAX : esp_baud_after > esp_read ? (size_t)(esp_baud_after - esp_read) : 0;
    if (most == 0) return;
    if (!esp_on_uart0) { esp_read += read_at_most(esp_fd, &to_soft_rx, &esp_open, most); return; }
    if (!rates_differ(esp_baud, uart0_baud(avr))) {
        esp_read += read_at_most(esp_fd, &to_uart0, &esp_open, most);
        junk_from_esp = 1;
        return;
    }
    uint8_t buf[256];
    ssize_t n = read(esp_fd, buf, most < sizeof buf ? most : sizeof buf);
    if (n == 0) esp_open = 0;
    if (n > 0) esp_read += (unsigned long long)n;
    for (ssize_t i = 0; i < n; i++)
        for (unsigned k = junk_count(&junk_from_esp, esp_baud, uart0_baud(avr)); k > 0 && !queue_full(&to_uart0);
             k--)
            queue_put(&to_uart0, junk_byte());
}

/* `esp-baud`: the fake module tells the new rate as its answer at the old rate has left it, on another pipe than
   that answer's bytes, which may come through the socket after the line that tells it (a harness preempted
   between reading the socket and stdin, or a socket's buffer). So the line says how many bytes the module had sent
   then, and bytes are always delivered at the rate they were sent at. */
void esp_baud_change(long rate, long long after) {
    esp_baud_next = rate;
    esp_baud_after = after < 0 ? esp_read : (unsigned long long)after;
}

/* A new module rate, once what crossed at the old one is through: the harness's side of the wire follows. */
void follow_esp_baud(void) {
    if (!esp_baud_next || esp_read < esp_baud_after || rx_busy || !queue_empty(&to_soft_rx) || tx_busy) return;
    esp_baud = esp_baud_next;
    esp_baud_next = 0;
    bit_cycles = (double)avr->frequency / (double)esp_baud;
}

int connect_to(const char *spec) {
    char host[64];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon - spec >= (long)sizeof host) {
        fprintf(stderr, "uno_harness: bad address %s\n", spec);
        exit(2);
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1 || (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "uno_harness: %s is not a loopback address\n", host);
        exit(2);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "uno_harness: cannot connect to %s: %s\n", spec, strerror(errno));
        exit(3);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

void esp_link_start(void) {
    bit_cycles = (double)avr->frequency / (double)esp_baud;
    pd2_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), IOPORT_IRQ_PIN2);
    pd3_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), IOPORT_IRQ_PIN3);
    avr_irq_register_notify(pd3_irq, pd3_change, NULL);
}

void esp_link_idle(void) {
    rx_busy = 0;
    tx_busy = 0;
    pd3_level = 1;
    avr_raise_irq(pd2_irq, 1);      /* an idle serial line is high */
}
