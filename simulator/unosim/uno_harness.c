/*
 * Runs a compiled Uno sketch (ELF) in simavr, in real time, wired like the board on the bench:
 *
 *   USB serial (UART0)        <-> this program's stdin/stdout, unless the ESP-01 sits on UART0
 *   ESP-01 on pins 2/3        <-> a TCP connection to the fake ESP-01 (SoftwareSerial: RX=PD2, TX=PD3)
 *   ESP-01 on pins 0/1        <-> the same TCP connection, through UART0 (--esp uart0)
 *   A0, internal temperature, Vcc <- millivolt values from the command line, A0 and the sensor with noise
 *   EEPROM                    <-> a file, so counters kept there survive a "power cycle" between runs
 *
 * SoftwareSerial has no peripheral to hook: the Uno's TX pin is decoded by sampling it in the middle of each bit
 * with cycle timers, and its RX pin is driven bit by bit from a self-rescheduling cycle timer; the pin-change
 * interrupt SoftwareSerial listens to follows from the pin level. Bit positions are kept as fractions of cycles
 * (1666.67 cycles a bit at 9600 baud), never as a rounded period that would drift.
 *
 * Each ADC conversion sees its input plus a step or two of noise, seeded by --seed (randomness.c), so a sketch
 * that makes an id from ADC noise draws a new one each run and the same one for a given seed.
 *
 * Emulated time is held to the wall clock (the fake module on the other end keeps real time), and simavr's own
 * sleep callback, which would sleep on its own schedule, is replaced.
 *
 * As the virtual Uno behind `espat uno` (--usb-pty, --flash-file), the USB serial is a pseudo-terminal whose path
 * goes out on stdout as `usb-pty PATH`; the board starts at Optiboot (byte address 0x7E00) as a fused Uno does, is
 * reset into it when someone opens the port (the USB chip's DTR pulse) or sends avrdude's STK500 sync while the
 * sketch runs, and keeps its flash in a raw 32 KB file. The port follows the host's rate as a real Uno's USB chip
 * does: a host at another rate than the UART's reads junk and sends junk (line_rates.c). Control lines on
 * stdin change the analog inputs: `adc N MV`, `temp MV`, `vcc MV`; `ram` answers `free-ram N` (stack painting,
 * with --paint-from); `esp-baud N` says the module now talks at N (AT+UART_CUR), and this side of the ESP wire
 * follows once the bytes of the old rate are through. The ESP-01's RST and CH_PD, wired to Uno pins with
 * --esp-rst/--esp-ch-pd, report their level on stdout as `esp-pin rst|ch_pd 0|1` (esp_pins.c).
 *
 * Usage: uno_harness [FIRMWARE.elf | --flash-file FILE [--save-flash]] --esp-connect HOST:PORT [--esp soft|uart0]
 *                    [--esp-baud N] [--usb-pty] [--eeprom FILE] [--a0-mv N] [--vcc-mv N] [--temp-mv N]
 *                    [--paint-from ADDR] [--wire-log FILE] [--no-pace] [--seconds S] [--seed N]
 *                    [--esp-rst PIN] [--esp-ch-pd PIN] [--garbage HEX]
 *        uno_harness FIRMWARE.elf --lockstep R,W [--mcusr N] [--eeprom-cut N] [--eeprom-torn T] ...
 *                    on a harness's virtual clock instead of the wall clock and a socket (lockstep_link.h)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <simavr/avr_adc.h>
#include <simavr/avr_eeprom.h>
#include <simavr/avr_ioport.h>
#include <simavr/avr_uart.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_irq.h>

#include "harness_parts.h"

#define QUEUE_SIZE 8192
#define POLL_CYCLES 1600            /* 100 us at 16 MHz: how often sockets are read and the clock is checked */
#define AHEAD_LIMIT_NS 2000000LL    /* emulated time may run this far ahead of the wall clock */
#define BOOT_SECTION 0x7E00         /* Optiboot's 512 bytes at the top of the ATmega328P's flash */
#define FLASH_SIZE 32768
#define RAMSTART 0x100
#define MCUSR_ADDR 0x54
#define PORF 0x01
#define EXTRF 0x02
#define PAINT 0xA5

typedef struct {
    uint8_t data[QUEUE_SIZE];
    unsigned head, tail;
} queue_t;

static int queue_empty(const queue_t *q) { return q->head == q->tail; }
static int queue_full(const queue_t *q) { return (q->head + 1) % QUEUE_SIZE == q->tail; }
static void queue_put(queue_t *q, uint8_t b) { q->data[q->head] = b; q->head = (q->head + 1) % QUEUE_SIZE; }
static uint8_t queue_get(queue_t *q) { uint8_t b = q->data[q->tail]; q->tail = (q->tail + 1) % QUEUE_SIZE; return b; }

static avr_t *avr;
static int esp_fd = -1;             /* TCP connection to the fake ESP-01 */
static int esp_on_uart0 = 0;
static double bit_cycles;           /* cycles per bit on the SoftwareSerial link */
static long esp_baud = 9600;        /* the module's rate: it changes with AT+UART_CUR (control line `esp-baud N`) */
static long esp_baud_next;          /* a change that waits until the bytes sent at the old rate are through */
static long host_baud;              /* the rate the USB pty's client set (0: unknown) */
/* junk bytes owed per direction, in fractions carried from byte to byte; a burst's first byte always makes one
   (its start bit is an edge) */
static double junk_up = 1, junk_down = 1, junk_to_esp = 1, junk_from_esp = 1;
static queue_t to_uart0;            /* bytes waiting to enter UART0 */
static queue_t to_soft_rx;          /* bytes waiting to be clocked into PD2 */
static int uart0_xon = 1;
static avr_irq_t *uart0_in, *pd2_irq, *pd3_irq;
static struct timespec wall_start;
static volatile sig_atomic_t stop_requested;
static int usb_in = STDIN_FILENO, usb_out = STDOUT_FILENO;
static int usb_pty = 0;             /* the USB serial is a pseudo-terminal (the virtual Uno) */
static int usb_connected = 1;       /* someone holds the USB port open (always, on stdin/stdout) */
static uint32_t adc_mv[8] = {215}, vcc_mv = 5000, temp_mv = 314;
static long paint_from = 0;         /* first free SRAM byte (__heap_start): painted at each reset */
static avr_cycle_count_t cycle_base;/* cycles run before the last reset (simavr's reset zeroes the counter) */
static avr_irq_t *adc_irq[8], *temp_irq;
static FILE *wire_log;              /* --wire-log: one line per byte on the ESP link, emulated µs at its start bit */
static int pace = 1;                /* hold emulated time to the wall clock (--no-pace: run as fast as it can) */

static void log_wire(char direction, uint8_t b) {
    if (wire_log) fprintf(wire_log, "%c %.1f %02X\n", direction, (double)(cycle_base + avr->cycle) / 16.0, b);
}
static int in_bootloader(void) { return avr->pc >= BOOT_SECTION; }

/* --- output helpers -------------------------------------------------------------------------------------------- */

static void write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            fprintf(stderr, "uno_harness: write failed: %s\n", strerror(errno));
            exit(3);
        }
        p += w;
        n -= (size_t)w;
    }
}

static int ls_on = 0;               /* --lockstep: the ESP side is a harness on a virtual clock (lockstep_link.h) */
static void ls_tx_byte(uint8_t b);
static void to_esp(uint8_t b) {
    if (ls_on) ls_tx_byte(b);
    else write_all(esp_fd, &b, 1);
}
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

/* --- UART0 ------------------------------------------------------------------------------------------------------ */

static void uart0_output(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)param;
    if (!esp_on_uart0) { to_usb((uint8_t)value); return; }
    if (in_bootloader() && usb_pty) { to_usb((uint8_t)value); return; }  /* the ESP ignores an upload */
    if (rates_differ(esp_baud, uart0_baud(avr))) {   /* on pins 0/1 the ESP hears the UART at its own rate */
        for (unsigned n = junk_count(&junk_to_esp, uart0_baud(avr), esp_baud); n > 0; n--) to_esp(junk_byte());
    } else {
        to_esp((uint8_t)value);
        junk_to_esp = 1;
    }
    if (usb_pty) to_usb((uint8_t)value);  /* pin 1 drives the ESP's RX and the USB chip's alike */
}

static void uart0_xon_hook(avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; uart0_xon = 1; }
static void uart0_xoff_hook(avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; uart0_xon = 0; }

static void feed_uart0(void) {
    while (uart0_xon && !queue_empty(&to_uart0)) avr_raise_irq(uart0_in, queue_get(&to_uart0));
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

static void feed_soft_rx(void) {
    if (rx_busy || queue_empty(&to_soft_rx)) return;
    rx_busy = 1;
    rx_frame = (uint16_t)(0x200 | ((uint16_t)queue_get(&to_soft_rx) << 1));
    rx_bit = 0;
    log_wire('R', (uint8_t)(rx_frame >> 1));
    rx_next = (double)avr->cycle + 1;
    avr_cycle_timer_register(avr, 1, rx_clock, NULL);
}

/* --- I/O polling and the wall clock --------------------------------------------------------------------------- */

static long long wall_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - wall_start.tv_sec) * 1000000000LL + (now.tv_nsec - wall_start.tv_nsec);
}

static long long emulated_ns(void) {
    return (long long)((double)(cycle_base + avr->cycle) * 1e9 / (double)avr->frequency);
}

static void read_into(int fd, queue_t *q, int *open_flag) {
    uint8_t buf[256];
    while (!queue_full(q)) {
        size_t room = (q->tail + QUEUE_SIZE - q->head - 1) % QUEUE_SIZE;
        ssize_t n = read(fd, buf, room < sizeof buf ? room : sizeof buf);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++) queue_put(q, buf[i]);
            continue;
        }
        if (n == 0) *open_flag = 0;
        return;                         /* EAGAIN: nothing more now */
    }
}

static void read_esp(void);
static void read_control(void);
static int esp_open = 1, stdin_open = 1;
/* What the module sends: to UART0 as junk when the sketch's rate is not the module's, as a real UART reads it. */
static void read_esp(void) {
    if (!esp_on_uart0) { read_into(esp_fd, &to_soft_rx, &esp_open); return; }
    if (!rates_differ(esp_baud, uart0_baud(avr))) {
        read_into(esp_fd, &to_uart0, &esp_open);
        junk_from_esp = 1;
        return;
    }
    uint8_t buf[256];
    ssize_t n = read(esp_fd, buf, sizeof buf);
    if (n == 0) esp_open = 0;
    for (ssize_t i = 0; i < n; i++)
        for (unsigned k = junk_count(&junk_from_esp, esp_baud, uart0_baud(avr)); k > 0 && !queue_full(&to_uart0);
             k--)
            queue_put(&to_uart0, junk_byte());
}

/* A new module rate, once what crossed at the old one is through: the harness's side of the wire follows. */
static void follow_esp_baud(void) {
    if (!esp_baud_next || rx_busy || !queue_empty(&to_soft_rx) || tx_busy) return;
    esp_baud = esp_baud_next;
    esp_baud_next = 0;
    bit_cycles = (double)avr->frequency / (double)esp_baud;
}

static volatile uint8_t reset_pending;  /* MCUSR cause of a reset the main loop is to do (0: none) */
static unsigned poll_count;

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

static void watch_usb_port(void) {
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

/* `adc N MV`, `temp MV`, `vcc MV`, `ram`: what a test or `espat uno`'s control socket changes during a run. */
static char control_line[128];
static size_t control_len;

static void apply_analog(void) {
    for (int i = 0; i < 8; i++) avr_raise_irq(adc_irq[i], adc_mv[i]);
    avr_raise_irq(temp_irq, temp_mv);
    avr->vcc = avr->avcc = avr->aref = vcc_mv;
}

/* simavr asks for the inputs as each conversion starts: a fresh draw of noise for the analog pins and the sensor */
static void adc_trigger(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)value; (void)param;
    for (int i = 0; i < 8; i++) avr_raise_irq(adc_irq[i], noisy(adc_mv[i]));
    avr_raise_irq(temp_irq, noisy(temp_mv));
}

static long free_ram(void) {
    long a = paint_from;
    while (a <= (long)avr->ramend && avr->data[a] == PAINT) a++;
    return a - paint_from;
}

static void control(const char *line) {
    unsigned n;
    unsigned long mv;
    if (sscanf(line, "adc %u %lu", &n, &mv) == 2 && n < 8) adc_mv[n] = (uint32_t)mv;
    else if (sscanf(line, "temp %lu", &mv) == 1) temp_mv = (uint32_t)mv;
    else if (sscanf(line, "vcc %lu", &mv) == 1) vcc_mv = (uint32_t)mv;
    else if (sscanf(line, "esp-baud %lu", &mv) == 1 && mv > 0) { esp_baud_next = (long)mv; return; }
    else if (!strncmp(line, "ram", 3)) {
        printf("free-ram %ld\n", paint_from ? free_ram() : -1L);
        fflush(stdout);
        return;
    } else {
        fprintf(stderr, "uno_harness: unknown control line: %s\n", line);
        return;
    }
    apply_analog();
}

static void read_control(void) {
    char buf[128];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0) stdin_open = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            control_line[control_len] = 0;
            control(control_line);
            control_len = 0;
        } else if (control_len < sizeof control_line - 1) {
            control_line[control_len++] = (char)buf[i];
        }
    }
}

#include "lockstep_link.h"

static avr_cycle_count_t poll_io(avr_t *a, avr_cycle_count_t when, void *param) {
    (void)param;
    (void)a;
    poll_count++;
    if (ls_on) ls_poll();
    else if (esp_open) read_esp();
    if (usb_pty) {
        if ((poll_count & 7) == 0) watch_usb_port();
        watch_esp_pins(avr, stdout);
        if (stdin_open && (poll_count & 63) == 0) read_control();
        /* a blank chip: Optiboot's timeouts never return, and the stack walks down into the I/O registers */
        uint16_t sp = (uint16_t)(avr->data[0x5D] | (avr->data[0x5E] << 8));
        if (sp < RAMSTART) reset_pending = PORF;
    } else if (stdin_open && !esp_on_uart0) {
        read_into(STDIN_FILENO, &to_uart0, &stdin_open);
    }
    follow_esp_baud();
    feed_uart0();
    if (!esp_on_uart0) feed_soft_rx();
    long long ahead = emulated_ns() - wall_ns();
    if (pace && ahead > AHEAD_LIMIT_NS) {
        struct timespec pause = {ahead / 1000000000LL, ahead % 1000000000LL};
        nanosleep(&pause, NULL);
    }
    return when + POLL_CYCLES;
}

/* After a reset (ours, the watchdog's), before the chip runs an instruction: simavr cleared every cycle timer. */
static void rearm(void) {
    avr_cycle_timer_register(avr, POLL_CYCLES, poll_io, NULL);
    rx_busy = 0;
    tx_busy = 0;
    pd3_level = 1;
    avr_raise_irq(pd2_irq, 1);      /* an idle serial line is high */
    apply_analog();
    if (paint_from) memset(avr->data + paint_from, PAINT, avr->ramend + 1 - paint_from);
}

/* simavr resets the chip itself on a watchdog timeout, inside avr_run: this hook on its reset says so (1.6 leaves
   the cycle counter running through a reset, so a clock that went back cannot tell). The main loop rearms before
   the chip's next instruction; rearming later, from a check that finds our timer gone, painted the stack of the
   sketch already running, and its next `ret` jumped to 0xA5A5 (simavr: crashed, pc past the flash). */
static void (*core_reset)(avr_t *);
static volatile uint8_t chip_reset;
static void on_chip_reset(avr_t *a) {
    if (core_reset) core_reset(a);
    chip_reset = 1;
}

static void board_reset(uint8_t cause) {
    cycle_base += avr->cycle;
    avr_reset(avr);
    chip_reset = 0;                 /* ours: rearmed here */
    avr->cycle = 0;
    avr->pc = avr->reset_pc;
    avr->data[MCUSR_ADDR] = cause;
    to_uart0.head = to_uart0.tail = 0;
    rearm();
}

/* --- set-up ------------------------------------------------------------------------------------------------------ */

static void quiet_logger(avr_t *a, const int level, const char *format, va_list ap) {
    (void)a;
    if (level <= LOG_WARNING) vfprintf(stderr, format, ap);
}

static void no_sleep(avr_t *a, avr_cycle_count_t how_long) { (void)a; (void)how_long; }

static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static int connect_to(const char *spec) {
    char host[64];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon - spec >= (long)sizeof host) { fprintf(stderr, "uno_harness: bad address %s\n", spec); exit(2); }
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

static void eeprom_io(const char *path, int save) {
    avr_eeprom_desc_t desc = {0};
    uint8_t image[1024];
    desc.ee = image;
    desc.offset = 0;
    desc.size = sizeof image;
    if (save) {
        /* simavr's EEPROM_GET answers -1 even when it copied the bytes: the status says nothing, so the image
           starts erased and is written whatever the call returned */
        memset(image, 0xFF, sizeof image);
        avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &desc);
        FILE *f = fopen(path, "wb");
        if (!f) { fprintf(stderr, "uno_harness: cannot write %s\n", path); return; }
        fwrite(desc.ee, 1, desc.size, f);
        fclose(f);
        return;
    }
    FILE *f = fopen(path, "rb");
    if (!f) return;                     /* a new board: erased EEPROM reads 0xFF */
    size_t n = fread(image, 1, sizeof image, f);
    fclose(f);
    desc.size = (uint32_t)n;
    avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &desc);
}

static int open_usb_pty(void) {
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

static void load_flash(const char *path) {
    static uint8_t image[FLASH_SIZE];
    memset(image, 0xFF, sizeof image);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "uno_harness: cannot read %s: %s\n", path, strerror(errno)); exit(2); }
    size_t n = fread(image, 1, sizeof image, f);
    fclose(f);
    if (n != sizeof image) { fprintf(stderr, "uno_harness: %s is not a 32768-byte flash image\n", path); exit(2); }
    avr_loadcode(avr, image, sizeof image, 0);
}

static void save_flash(const char *path) {
    char partial[4096];
    snprintf(partial, sizeof partial, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(partial, "wb");
    if (!f || fwrite(avr->flash, 1, FLASH_SIZE, f) != FLASH_SIZE || fclose(f) != 0) {
        fprintf(stderr, "uno_harness: cannot write %s\n", path);
        return;
    }
    rename(partial, path);
}

int main(int argc, char **argv) {
    const char *elf = NULL, *esp_addr = NULL, *eeprom_path = NULL, *flash_path = NULL, *lockstep = NULL;
    uint8_t mcusr = PORF;
    double seconds = 0;
    int keep_flash = 0, seeded = 0;
    uint64_t seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--esp-connect") && val) { esp_addr = val; i++; }
        else if (!strcmp(arg, "--esp") && val) { esp_on_uart0 = !strcmp(val, "uart0"); i++; }
        else if (!strcmp(arg, "--esp-baud") && val) { esp_baud = atol(val); i++; }
        else if (!strcmp(arg, "--eeprom") && val) { eeprom_path = val; i++; }
        else if (!strcmp(arg, "--a0-mv") && val) { adc_mv[0] = (uint32_t)atol(val); i++; }
        else if (!strcmp(arg, "--vcc-mv") && val) { vcc_mv = (uint32_t)atol(val); i++; }
        else if (!strcmp(arg, "--temp-mv") && val) { temp_mv = (uint32_t)atol(val); i++; }
        else if (!strcmp(arg, "--seconds") && val) { seconds = atof(val); i++; }
        else if (!strcmp(arg, "--flash-file") && val) { flash_path = val; i++; }
        else if (!strcmp(arg, "--save-flash")) keep_flash = 1;
        else if (!strcmp(arg, "--usb-pty")) usb_pty = 1;
        else if (!strcmp(arg, "--no-pace")) pace = 0;
        else if (!strcmp(arg, "--lockstep") && val) { lockstep = val; i++; }
        else if (!strcmp(arg, "--mcusr") && val) { mcusr = (uint8_t)atoi(val); i++; }
        else if (!strcmp(arg, "--eeprom-cut") && val) { ls_cut_at = (uint32_t)strtoul(val, NULL, 10); i++; }
        else if (!strcmp(arg, "--eeprom-torn") && val) { ls_torn = atoi(val) & 3; i++; }
        else if (!strcmp(arg, "--wire-log") && val) {
            wire_log = fopen(val, "w");
            if (!wire_log) { fprintf(stderr, "uno_harness: cannot write %s\n", val); return 2; }
            i++;
        }
        else if ((!strcmp(arg, "--esp-rst") || !strcmp(arg, "--esp-ch-pd")) && val) {
            if (!wire_esp_pin(arg[6] == 'r' ? "rst" : "ch_pd", atoi(val))) {
                fprintf(stderr, "uno_harness: %s %s: the Uno's pins are 0 to 19\n", arg, val);
                return 2;
            }
            i++;
        }
        else if (!strcmp(arg, "--paint-from") && val) { paint_from = strtol(val, NULL, 0); i++; }
        else if (!strcmp(arg, "--garbage") && val) {
            if (!set_junk_bytes(val)) { fprintf(stderr, "uno_harness: --garbage wants hex bytes\n"); return 2; }
            i++;
        }
        else if (!strcmp(arg, "--seed") && val) { seed = strtoull(val, NULL, 0); seeded = 1; i++; }
        else if (arg[0] != '-' && !elf) elf = arg;
        else { fprintf(stderr, "uno_harness: unknown argument %s\n", arg); return 2; }
    }
    if (!elf == !flash_path || !esp_addr == !lockstep || esp_baud <= 0) {
        fprintf(stderr, "usage: uno_harness [FIRMWARE.elf | --flash-file FILE [--save-flash]] --esp-connect HOST:PORT "
                        "[--esp soft|uart0] [--esp-baud N] [--usb-pty] [--eeprom FILE] [--a0-mv N] [--vcc-mv N] "
                        "[--temp-mv N] [--paint-from ADDR] [--seconds S] [--seed N] [--esp-rst PIN] "
                        "[--esp-ch-pd PIN] [--garbage HEX]\n");
        return 2;
    }
    if (!seeded) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        seed = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec + ((uint64_t)getpid() << 40);
    }
    seed_randomness(seed);

    avr_global_logger_set(quiet_logger);    /* before the ELF is read: simavr logs to stdout otherwise */
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) { fprintf(stderr, "uno_harness: simavr has no atmega328p\n"); return 2; }
    avr_init(avr);
    avr->frequency = 16000000;
    if (elf) {
        elf_firmware_t fw;
        memset(&fw, 0, sizeof fw);
        if (elf_read_firmware(elf, &fw) != 0) { fprintf(stderr, "uno_harness: cannot read %s\n", elf); return 2; }
        fw.frequency = 16000000;
        avr_load_firmware(avr, &fw);
    } else {
        load_flash(flash_path);
        avr->reset_pc = BOOT_SECTION;       /* BOOTRST programmed, as on every Uno */
        avr->pc = BOOT_SECTION;
        avr->data[MCUSR_ADDR] = PORF;
    }
    avr->frequency = 16000000;
    avr->sleep = no_sleep;
    core_reset = avr->reset;
    avr->reset = on_chip_reset;
    avr->log = LOG_WARNING;
    bit_cycles = (double)avr->frequency / (double)esp_baud;

    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart0_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart0_output, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), uart0_xon_hook, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), uart0_xoff_hook, NULL);

    pd2_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), IOPORT_IRQ_PIN2);
    pd3_irq = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('D'), IOPORT_IRQ_PIN3);
    avr_irq_register_notify(pd3_irq, pd3_change, NULL);
    for (int i = 0; i < 8; i++) adc_irq[i] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + i);
    temp_irq = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_TEMP);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), adc_trigger, NULL);

    if (eeprom_path) eeprom_io(eeprom_path, 0);
    if (esp_addr) esp_fd = connect_to(esp_addr);
    if (usb_pty) {
        usb_in = usb_out = open_usb_pty();
        usb_connected = 0;
    }
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);

    clock_gettime(CLOCK_MONOTONIC, &wall_start);
    if (lockstep) ls_start(lockstep, mcusr);
    rearm();
    avr_cycle_count_t limit = seconds > 0 ? (avr_cycle_count_t)(seconds * avr->frequency) : 0;
    avr_cycle_count_t last_cycle = 0;
    unsigned long steps = 0;
    int status = 0;
    while (!stop_requested) {
        int state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            fprintf(stderr, "uno_harness: the firmware stopped (%s)\n", state == cpu_Done ? "done" : "crashed");
            status = state == cpu_Crashed ? 4 : 0;
            break;
        }
        if (avr->cycle < last_cycle) cycle_base += last_cycle;   /* a simavr that zeroes the clock at a reset */
        if (chip_reset) {                   /* the watchdog reset the chip (on_chip_reset) */
            chip_reset = 0;
            if (ls_on) ls_exit('W');        /* the lock-step harness starts the board again */
            rearm();
        }
        last_cycle = avr->cycle;
        if (reset_pending) {
            board_reset(reset_pending);
            reset_pending = 0;
            last_cycle = 0;
        }
        if ((++steps & 0x3FF) == 0) {
            /* a reset clears every timer, and is rearmed for at once (on_chip_reset); should ours be gone
               anyway, it comes back, and only it: painting RAM now would paint a running sketch's stack */
            if (!avr_cycle_timer_status(avr, poll_io, NULL))
                avr_cycle_timer_register(avr, POLL_CYCLES, poll_io, NULL);
            if (limit && cycle_base + avr->cycle >= limit) break;
            if (!esp_open) { fprintf(stderr, "uno_harness: the ESP-01 link closed\n"); break; }
        }
    }
    if (eeprom_path) eeprom_io(eeprom_path, 1);
    if (flash_path && keep_flash) save_flash(flash_path);
    if (paint_from) fprintf(stderr, "uno_harness: free-ram %ld\n", free_ram());
    if (wire_log) fclose(wire_log);
    fprintf(stderr, "uno_harness: ran %.3f s of emulated time\n", (double)(cycle_base + avr->cycle) / 16e6);
    return status;
}
