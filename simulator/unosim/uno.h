/* The virtual Uno's harness, split by idea: what each of its files offers the ones above it. Each file calls only
 * files listed before it here (a file below reaches one above through a hook it is handed, never by name):
 *
 *   fd_bytes.c       bytes through a file descriptor: all of them out, or as many in as a queue holds
 *   uno_board.c      the chip and the board around it: resets and their cause, Optiboot's section, flash, EEPROM
 *   stack_paint.c    free SRAM by stack painting
 *   uart0.c          what enters UART0, as fast as it takes it
 *   esp_link.c       the ESP-01's wire: the TCP link, SoftwareSerial on pins 2/3 bit by bit, the module's rate
 *   control_lines.c  `adc`, `temp`, `vcc`, `esp-baud`, `ram` on stdin, and the analog inputs they set
 *   lockstep_link.c  --lockstep: the ESP side on a harness's virtual clock instead of a socket
 *   usb_serial.c     the USB chip on UART0: the pty or stdin/stdout, its rate, the reset on open or avrdude's sync
 *   uno_harness.c    the command line, simavr's set-up, the poll timer and the main loop held to the wall clock
 *
 * The parts with no state of the harness's own (randomness, line rates, the ESP's RST/CH_PD pins) are in
 * harness_parts.h.
 */
#pragma once
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <simavr/sim_avr.h>
#include <simavr/sim_irq.h>

#include "harness_parts.h"

/* --- a byte queue between the outside world and a pin ------------------------------------------------------------ */

#define QUEUE_SIZE 8192

typedef struct {
    uint8_t data[QUEUE_SIZE];
    unsigned head, tail;
} queue_t;

static inline int queue_empty(const queue_t *q) { return q->head == q->tail; }
static inline int queue_full(const queue_t *q) { return (q->head + 1) % QUEUE_SIZE == q->tail; }
static inline void queue_put(queue_t *q, uint8_t b) { q->data[q->head] = b; q->head = (q->head + 1) % QUEUE_SIZE; }
static inline uint8_t queue_get(queue_t *q) {
    uint8_t b = q->data[q->tail];
    q->tail = (q->tail + 1) % QUEUE_SIZE;
    return b;
}

/* --- fd_bytes.c ------------------------------------------------------------------------------------------------- */

void write_all(int fd, const uint8_t *p, size_t n);     /* every byte, or the run ends (exit 3) */
void read_into(int fd, queue_t *q, int *open_flag);     /* what is there, while q has room; *open_flag 0 at EOF */
size_t read_at_most(int fd, queue_t *q, int *open_flag, size_t most);  /* read_into, `most` bytes at most: how many */

/* --- uno_board.c ------------------------------------------------------------------------------------------------ */

#define BOOT_SECTION 0x7E00         /* Optiboot's 512 bytes at the top of the ATmega328P's flash */
#define FLASH_SIZE 32768
#define RAMSTART 0x100
#define MCUSR_ADDR 0x54
#define PORF 0x01
#define EXTRF 0x02

extern avr_t *avr;
extern avr_cycle_count_t cycle_base;    /* cycles run before the last reset (simavr's reset zeroes the counter) */
extern volatile uint8_t reset_pending;  /* MCUSR cause of a reset the main loop is to do (0: none) */
extern volatile uint8_t chip_reset;     /* simavr reset the chip itself (the watchdog): the main loop rearms */
int in_bootloader(void);
void watch_chip_reset(void);            /* hooks simavr's own reset, which sets chip_reset */
void board_reset(uint8_t cause);        /* a reset the board does, MCUSR saying `cause`; the caller rearms */
void eeprom_io(const char *path, int save);
void load_flash(const char *path);
void save_flash(const char *path);

/* --- stack_paint.c ---------------------------------------------------------------------------------------------- */

extern long paint_from;             /* first free SRAM byte (__heap_start): painted at each reset */
void paint_stack(void);             /* from paint_from to the top of SRAM */
long free_ram(void);                /* painted bytes no variable and no stack frame has touched since */

/* --- uart0.c ---------------------------------------------------------------------------------------------------- */

extern queue_t to_uart0;            /* bytes waiting to enter UART0 */
void uart0_start(void (*output)(avr_irq_t *, uint32_t, void *));   /* output: each byte UART0 sends */
void feed_uart0(void);              /* queued bytes into UART0 while it takes them */

/* --- esp_link.c ------------------------------------------------------------------------------------------------- */

extern int esp_fd;                  /* TCP connection to the fake ESP-01 */
extern int esp_on_uart0;            /* the ESP-01 on pins 0/1 (--esp uart0); else SoftwareSerial on pins 2/3 */
extern long esp_baud;               /* the module's rate: it changes with AT+UART_CUR (control line `esp-baud N`) */
extern int esp_open;                /* the TCP link is still open */
extern queue_t to_soft_rx;          /* bytes waiting to be clocked into PD2 */
extern FILE *wire_log;              /* --wire-log: one line per byte on the ESP link, emulated µs at its start bit */
extern void (*esp_tx_hook)(uint8_t);/* where the module's received bytes go instead of the socket (lock-step) */
int connect_to(const char *spec);   /* a loopback HOST:PORT, non-blocking, no Nagle */
void to_esp(uint8_t b);             /* a byte the module receives */
void esp_hears_uart0(uint8_t b);    /* a byte UART0 sent, the ESP-01 on pins 0/1: at the module's rate or as junk */
void read_esp(void);                /* what the module sent, queued for pin 2 or UART0 */
/* the module talks at `rate` once it has sent `after` bytes on this connection (-1: those read so far) */
void esp_baud_change(long rate, long long after);
void follow_esp_baud(void);         /* a new module rate, once what crossed at the old one is through */
void feed_soft_rx(void);            /* starts clocking the next queued byte into PD2 */
void esp_link_start(void);          /* hooks PD2 and PD3, at the module's rate */
void esp_link_idle(void);           /* after a reset: both lines idle (high), no byte under way */

/* --- control_lines.c -------------------------------------------------------------------------------------------- */

extern uint32_t adc_mv[8], vcc_mv, temp_mv;
extern int stdin_open;              /* stdin (control lines, or a sketch run's USB serial) is still open */
void analog_start(void);            /* hooks the ADC's inputs, with noise drawn at each conversion */
void apply_analog(void);            /* the inputs' levels, as set now */
void read_control(void);            /* the control lines waiting on stdin, each done as it ends */

/* --- lockstep_link.c -------------------------------------------------------------------------------------------- */

extern int ls_on;                   /* the ESP side is a harness on a virtual clock */
extern uint32_t ls_cut_at;          /* --eeprom-cut N */
extern int ls_torn;                 /* --eeprom-torn T */
void ls_poll(void);                 /* from the poll timer: report, and wait for the harness at the horizon */
__attribute__((noreturn)) void ls_exit(char reason);
void ls_start(const char *fds, uint8_t mcusr);

/* --- usb_serial.c ----------------------------------------------------------------------------------------------- */

extern int usb_in, usb_out;
extern int usb_pty;                 /* the USB serial is a pseudo-terminal (the virtual Uno) */
extern int usb_connected;           /* someone holds the USB port open (always, on stdin/stdout) */
void uart0_output(avr_irq_t *irq, uint32_t value, void *param);    /* pin 1: the USB chip's RX, or the ESP's too */
void watch_usb_port(void);          /* opened or closed (a reset on open), the host's rate, what it sent */
int open_usb_pty(void);             /* the pty, raw; its path goes out on stdout as `usb-pty PATH` */
