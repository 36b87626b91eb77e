#include "EspAtNet.h"

void espat::ipText(const IPAddress& ip, char* text) {
  for (uint8_t i = 0; i < 4; i++) {
    uint8_t v = ip[i];
    char* first = text;
    for (uint8_t ten = 100; ten > 1; ten = ten == 100 ? 10 : 1) {  // hundreds and tens by subtraction: no division
      char digit = '0';
      for (; v >= ten; v -= ten) digit++;
      if (digit != '0' || text != first) *text++ = digit;  // no leading zeros
    }
    *text++ = (char)('0' + v);
    *text++ = '.';
  }
  text[-1] = 0;
}
