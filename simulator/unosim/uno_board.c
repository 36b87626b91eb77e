/* The ATmega328P and the board around it: the chip simavr runs, its resets and their cause (MCUSR), Optiboot's
   section at the top of flash, and the flash and EEPROM kept in files so a board keeps them between runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <simavr/avr_eeprom.h>

#include "uno.h"

avr_t *avr;
avr_cycle_count_t cycle_base;
volatile uint8_t reset_pending;

int in_bootloader(void) { return avr->pc >= BOOT_SECTION; }

/* simavr resets the chip itself on a watchdog timeout, inside avr_run: this hook on its reset says so (1.6 leaves
   the cycle counter running through a reset, so a clock that went back cannot tell). The main loop rearms before
   the chip's next instruction; rearming later, from a check that finds our timer gone, painted the stack of the
   sketch already running, and its next `ret` jumped to 0xA5A5 (simavr: crashed, pc past the flash). */
static void (*core_reset)(avr_t *);
volatile uint8_t chip_reset;
static void on_chip_reset(avr_t *a) {
    if (core_reset) core_reset(a);
    chip_reset = 1;
}

void watch_chip_reset(void) {
    core_reset = avr->reset;
    avr->reset = on_chip_reset;
}

void board_reset(uint8_t cause) {
    cycle_base += avr->cycle;
    avr_reset(avr);
    chip_reset = 0;                 /* ours: the caller rearms */
    avr->cycle = 0;
    avr->pc = avr->reset_pc;
    avr->data[MCUSR_ADDR] = cause;
}

void eeprom_io(const char *path, int save) {
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

void load_flash(const char *path) {
    static uint8_t image[FLASH_SIZE];
    memset(image, 0xFF, sizeof image);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "uno_harness: cannot read %s: %s\n", path, strerror(errno)); exit(2); }
    size_t n = fread(image, 1, sizeof image, f);
    fclose(f);
    if (n != sizeof image) { fprintf(stderr, "uno_harness: %s is not a 32768-byte flash image\n", path); exit(2); }
    avr_loadcode(avr, image, sizeof image, 0);
}

void save_flash(const char *path) {
    char partial[4096];
    snprintf(partial, sizeof partial, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(partial, "wb");
    if (!f || fwrite(avr->flash, 1, FLASH_SIZE, f) != FLASH_SIZE || fclose(f) != 0) {
        fprintf(stderr, "uno_harness: cannot write %s\n", path);
        return;
    }
    rename(partial, path);
}
