/* What enters the ATmega's UART0 (from the USB chip, or the ESP-01 on pins 0/1): queued, and raised into simavr's
   UART as fast as its flow control (XON/XOFF on its receive buffer) takes it. */
#include <simavr/avr_uart.h>

#include "uno.h"

queue_t to_uart0;
static int uart0_xon = 1;
static avr_irq_t *uart0_in;

static void uart0_xon_hook(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)value; (void)param;
    uart0_xon = 1;
}

static void uart0_xoff_hook(avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq; (void)value; (void)param;
    uart0_xon = 0;
}

void uart0_start(void (*output)(avr_irq_t *, uint32_t, void *)) {
    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    uart0_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), output, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), uart0_xon_hook, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), uart0_xoff_hook, NULL);
}

void feed_uart0(void) {
    while (uart0_xon && !queue_empty(&to_uart0)) avr_raise_irq(uart0_in, queue_get(&to_uart0));
}
