"""pyserial URL handlers of esp8266sim (`sim://`); pyserial finds them through serial.protocol_handler_packages."""
