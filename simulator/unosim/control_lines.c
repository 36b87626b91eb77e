/* The lines a test or `espat uno`'s control socket sends on stdin during a run, and the analog inputs they set:
   `adc N MV`, `temp MV`, `vcc MV`, `esp-baud N [after BYTES]` (the module's rate after AT+UART_CUR, from its
   BYTES-th byte on this connection: esp_link.c), `ram` (answered on stdout as `free-ram N`, -1 without
   --paint-from). Each ADC conversion sees its input plus a step or two of noise,
   seeded by --seed (randomness.c), so a sketch that makes an id from ADC noise draws a new one each run and the
   same one for a given seed. */
#include <string.h>
#include <unistd.h>

#include <simavr/avr_adc.h>

#include "uno.h"

uint32_t adc_mv[8] = {215}, vcc_mv = 5000, temp_mv = 314;
int stdin_open = 1;
static avr_irq_t *adc_irq[8], *temp_irq;
static char control_line[128];
static size_t control_len;

void apply_analog(void) {
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

void analog_start(void) {
    for (int i = 0; i < 8; i++) adc_irq[i] = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + i);
    temp_irq = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_TEMP);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), adc_trigger, NULL);
}

static void control(const char *line) {
    unsigned n;
    unsigned long mv;
    unsigned long long after;
    int fields;
    if (sscanf(line, "adc %u %lu", &n, &mv) == 2 && n < 8) adc_mv[n] = (uint32_t)mv;
    else if (sscanf(line, "temp %lu", &mv) == 1) temp_mv = (uint32_t)mv;
    else if (sscanf(line, "vcc %lu", &mv) == 1) vcc_mv = (uint32_t)mv;
    else if ((fields = sscanf(line, "esp-baud %lu after %llu", &mv, &after)) >= 1 && mv > 0) {
        esp_baud_change((long)mv, fields == 2 ? (long long)after : -1);
        return;
    }
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

void read_control(void) {
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
