/*
 * Runs a compiled Uno sketch (ELF) in simavr, in real time, wired like the board on the bench:
 *
 *   USB serial (UART0)        <-> this program's stdin/stdout, unless the ESP-01 sits on UART0
 *   ESP-01 on pins 2/3        <-> a TCP connection to the fake ESP-01 (SoftwareSerial: RX=PD2, TX=PD3)
 *   ESP-01 on pins 0/1        <-> the same TCP connection, through UART0 (--esp uart0)
 *   A0, internal temperature, Vcc <- millivolt values from the command line, A0 and the sensor with noise
 *   EEPROM                    <-> a file, so counters kept there survive a "power cycle" between runs
 *
 * SoftwareSerial's pins are sampled and driven bit by bit (esp_link.c); each ADC conversion sees its input plus a
 * step or two of noise, seeded by --seed (control_lines.c).
 *
 * Emulated time is held to the wall clock (the fake module on the other end keeps real time), and simavr's own
 * sleep callback, which would sleep on its own schedule, is replaced.
 *
 * As the virtual Uno behind `espat uno` (--usb-pty, --flash-file), the USB serial is a pseudo-terminal whose path
 * goes out on stdout as `usb-pty PATH`; the board starts at Optiboot (byte address 0x7E00) as a fused Uno does, is
 * reset into it when someone opens the port (the USB chip's DTR pulse) or sends avrdude's STK500 sync while the
 * sketch runs, and keeps its flash in a raw 32 KB file. The port follows the host's rate as a real Uno's USB chip
 * does: a host at another rate than the UART's reads junk and sends junk (usb_serial.c). Control lines on
 * stdin change the analog inputs: `adc N MV`, `temp MV`, `vcc MV`; `ram` answers `free-ram N` (stack painting,
 * with --paint-from); `esp-baud N after BYTES` says the module talks at N (AT+UART_CUR) from its BYTES-th byte on,
 * and this side of the ESP wire follows once the bytes of the old rate are through. The ESP-01's RST and CH_PD,
 * wired to Uno pins with --esp-rst/--esp-ch-pd, report their level on stdout as `esp-pin rst|ch_pd 0|1`
 * (esp_pins.c).
 *
 * Usage: uno_harness [FIRMWARE.elf | --flash-file FILE [--save-flash]] --esp-connect HOST:PORT [--esp soft|uart0]
 *                    [--esp-baud N] [--usb-pty] [--eeprom FILE] [--a0-mv N] [--vcc-mv N] [--temp-mv N]
 *                    [--paint-from ADDR] [--wire-log FILE] [--no-pace] [--seconds S] [--seed N]
 *                    [--esp-rst PIN] [--esp-ch-pd PIN] [--garbage HEX]
 *        uno_harness FIRMWARE.elf --lockstep R,W [--mcusr N] [--eeprom-cut N] [--eeprom-torn T] ...
 *                    on a harness's virtual clock instead of the wall clock and a socket (lockstep_link.c)
 *
 * This file holds the command line, simavr's set-up, the poll timer and the main loop; uno.h lists the others.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>

#include "uno.h"

#define POLL_CYCLES 1600            /* 100 us at 16 MHz: how often sockets are read and the clock is checked */
#define AHEAD_LIMIT_NS 2000000LL    /* emulated time may run this far ahead of the wall clock */

static struct timespec wall_start;
static volatile sig_atomic_t stop_requested;
static int pace = 1;                /* hold emulated time to the wall clock (--no-pace: run as fast as it can) */
static unsigned poll_count;

/* --- the poll timer and the wall clock ------------------------------------------------------------------------- */

static long long wall_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - wall_start.tv_sec) * 1000000000LL + (now.tv_nsec - wall_start.tv_nsec);
}

static long long emulated_ns(void) {
    return (long long)((double)(cycle_base + avr->cycle) * 1e9 / (double)avr->frequency);
}

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
    esp_link_idle();
    apply_analog();
    paint_stack();
}

/* --- set-up ------------------------------------------------------------------------------------------------------ */

static void quiet_logger(avr_t *a, const int level, const char *format, va_list ap) {
    (void)a;
    if (level <= LOG_WARNING) vfprintf(stderr, format, ap);
}

static void no_sleep(avr_t *a, avr_cycle_count_t how_long) { (void)a; (void)how_long; }

static void on_signal(int sig) { (void)sig; stop_requested = 1; }

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
    watch_chip_reset();
    avr->log = LOG_WARNING;
    uart0_start(uart0_output);
    esp_link_start();
    analog_start();

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
    if (lockstep) {
        ls_start(lockstep, mcusr);
        pace = 0;                           /* the lock-step harness's virtual clock is the clock */
    }
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
            to_uart0.head = to_uart0.tail = 0;
            rearm();
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
