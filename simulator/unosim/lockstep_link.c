/*
 * The harness's lock-step mode (--lockstep R,W): instead of a socket to a fake ESP-01 in real time, two pipes to a
 * harness on a virtual clock (esp8266sim.lockstep), with the frames of the host shim's vclock.h, so the compiled
 * firmware joins the same simulated field as the host-native build. Emulated time is the clock: every poll (100 us
 * of it) the Uno tells what it sent the ESP and wrote to EEPROM since the last frame, and once its time reaches the
 * harness's horizon it waits for the go frame: the ADC's millivolts and the ESP's bytes, which then reach pin 2 (or
 * UART0) bit by bit as before.
 *
 * EEPROM writes are seen as the chip performs them (EECR's EEPE within four cycles of EEMPE), so a power cut
 * (--eeprom-cut N) lands on the Nth byte the compiled code really writes; --eeprom-torn T says what that byte holds
 * then (0 the old value, 1 erased 0xFF, 2 the new value, 3 old AND new). A watchdog reset ends the run with 'W',
 * for the harness to start the board again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <simavr/avr_eeprom.h>

#include "uno.h"

#define EECR_ADDR 0x3F
#define EEDR_ADDR 0x40
#define EEARL_ADDR 0x41
#define EEARH_ADDR 0x42
#define EEPE_BIT 0x02
#define EEMPE_BIT 0x04

int ls_on = 0;
uint32_t ls_cut_at;
int ls_torn;
static int ls_from = -1, ls_to = -1;
static uint64_t ls_horizon;
static uint8_t ls_tx[8192];
static uint32_t ls_tx_len;
static uint8_t ls_writes[3 * 4096];
static uint32_t ls_write_count;
static uint32_t ls_ee_bytes;
static uint8_t ls_shadow[1024];         /* what each EEPROM cell holds, to know a cell's old value */
static int ls_mpe_armed;
static avr_cycle_count_t ls_mpe_cycle;

static uint64_t ls_now_us(void) { return (uint64_t)((cycle_base + avr->cycle) / 16); }

static void ls_read_all(void *buf, size_t n) {
    uint8_t *p = buf;
    while (n) {
        ssize_t got = read(ls_from, p, n);
        if (got == 0) exit(0);          /* the harness is gone: so is the board's power */
        if (got < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "uno_harness: lock-step read failed: %s\n", strerror(errno));
            exit(3);
        }
        p += got;
        n -= (size_t)got;
    }
}

static void ls_send(char kind, char reason) {
    uint8_t head[18];
    uint64_t now = ls_now_us();
    head[0] = (uint8_t)kind;
    memcpy(head + 1, &now, 8);
    head[9] = (uint8_t)reason;
    memcpy(head + 10, &ls_tx_len, 4);
    memcpy(head + 14, &ls_write_count, 4);
    write_all(ls_to, head, sizeof head);
    if (ls_tx_len) write_all(ls_to, ls_tx, ls_tx_len);
    if (ls_write_count) write_all(ls_to, ls_writes, 3 * ls_write_count);
    ls_tx_len = 0;
    ls_write_count = 0;
}

static void ls_sync(void) {
    /* the harness may end the board (SIGKILL) as soon as it has this frame: the wire log is in its file first */
    if (wire_log) fflush(wire_log);
    ls_send('S', 0);
    uint8_t head[19];
    ls_read_all(head, sizeof head);
    if (head[0] != 'G') { fprintf(stderr, "uno_harness: the lock-step harness sent no go frame\n"); exit(3); }
    memcpy(&ls_horizon, head + 1, 8);
    uint16_t mv[3];
    memcpy(mv, head + 9, 6);
    adc_mv[0] = mv[0];
    temp_mv = mv[1];
    vcc_mv = mv[2];
    apply_analog();
    uint32_t n;
    memcpy(&n, head + 15, 4);
    queue_t *q = esp_on_uart0 ? &to_uart0 : &to_soft_rx;
    uint8_t chunk[1024];
    while (n) {
        uint32_t take = n < sizeof chunk ? n : (uint32_t)sizeof chunk;
        ls_read_all(chunk, take);
        for (uint32_t i = 0; i < take; i++) {
            if (queue_full(q)) { fprintf(stderr, "uno_harness: lock-step receive queue full\n"); exit(3); }
            queue_put(q, chunk[i]);
        }
        n -= take;
    }
}

static void ls_tx_byte(uint8_t b) {
    if (ls_tx_len == sizeof ls_tx) ls_sync();
    ls_tx[ls_tx_len++] = b;
}

/* From poll_io: report what happened, and wait for the harness once the horizon is reached. */
void ls_poll(void) {
    if (ls_tx_len || ls_write_count || ls_now_us() >= ls_horizon) ls_sync();
}

__attribute__((noreturn)) void ls_exit(char reason) {
    ls_send('X', reason);
    exit(0);
}

static void ls_eecr_write(avr_t *a, avr_io_addr_t addr, uint8_t v, void *param) {
    (void)addr; (void)param;
    if ((v & EEMPE_BIT) && !(v & EEPE_BIT)) {
        ls_mpe_armed = 1;
        ls_mpe_cycle = a->cycle;
        return;
    }
    if (!(v & EEPE_BIT) || !ls_mpe_armed || a->cycle - ls_mpe_cycle > 4) return;
    ls_mpe_armed = 0;
    uint16_t address = (uint16_t)(((a->data[EEARH_ADDR] << 8) | a->data[EEARL_ADDR]) & 1023);
    uint8_t value = a->data[EEDR_ADDR], old = ls_shadow[address], result = value;
    int cut = ls_cut_at && ++ls_ee_bytes == ls_cut_at;
    if (!ls_cut_at) ls_ee_bytes++;
    if (cut) {
        result = ls_torn == 0 ? old : ls_torn == 1 ? 0xFF : ls_torn == 2 ? value : (uint8_t)(old & value);
        avr_eeprom_desc_t desc = {&result, address, 1};
        avr_ioctl(a, AVR_IOCTL_EEPROM_SET, &desc);
    }
    ls_shadow[address] = result;
    if (ls_write_count == sizeof ls_writes / 3) ls_sync();
    memcpy(ls_writes + 3 * ls_write_count, &address, 2);
    ls_writes[3 * ls_write_count + 2] = result;
    ls_write_count++;
    if (cut) ls_exit('C');
}

void ls_start(const char *fds, uint8_t mcusr) {
    if (sscanf(fds, "%d,%d", &ls_from, &ls_to) != 2) { fprintf(stderr, "uno_harness: --lockstep R,W\n"); exit(2); }
    ls_on = 1;
    esp_tx_hook = ls_tx_byte;
    avr->data[MCUSR_ADDR] = mcusr;
    memset(ls_shadow, 0xFF, sizeof ls_shadow);
    avr_eeprom_desc_t desc = {ls_shadow, 0, sizeof ls_shadow};
    avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &desc);    /* its status means nothing (see eeprom_io); the bytes do */
    avr_register_io_write(avr, EECR_ADDR, ls_eecr_write, NULL);
    ls_sync();                                      /* the first go frame: the ADC, and how far to run */
}
