// The sketches' name for the library's software UART on pins 2/3 (EspAtSoftUart.h); the host-native test builds
// put their own soft_uart.h first on the include path. Include it from one source file only.
#pragma once
#include <EspAtSoftUart.h>
typedef EspAtSoftUart SoftUart;
