// The sketches' name for the library's print-only USB port (EspAtUsbTx.h).
#pragma once
#include <EspAtUsbTx.h>
typedef EspAtUsbTx UsbTx;
