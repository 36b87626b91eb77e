// The sketches' name for the library's UART0 port (EspAtUartPort.h); the host-native test builds put their own
// uart_port.h first on the include path. Include it from one source file only.
#pragma once
#include <EspAtUartPort.h>
typedef EspAtUartPort UartPort;
