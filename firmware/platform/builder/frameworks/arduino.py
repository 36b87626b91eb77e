"""The Arduino framework from Debian's arduino-core-avr: the core and the Uno's variant are built into archives
(so unused parts such as HardwareSerial's interrupt handlers drop out at link time, as in the IDE), and the core's
bundled libraries (SoftwareSerial, EEPROM) are offered to PlatformIO's library finder.

ESPAT_ARDUINO_AVR names another copy of the core (the folder holding cores/, variants/ and libraries/).
"""
import os

from SCons.Script import DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()

FRAMEWORK_DIR = os.environ.get("ESPAT_ARDUINO_AVR", "/usr/share/arduino/hardware/arduino/avr")
CORE_DIR = os.path.join(FRAMEWORK_DIR, "cores", board.get("build.core"))
VARIANT_DIR = os.path.join(FRAMEWORK_DIR, "variants", board.get("build.variant"))
if not os.path.isdir(CORE_DIR):
    env.Exit("Error: %s is missing: install arduino-core-avr (scripts/setup.sh does)" % CORE_DIR)

env.Append(
    CPPDEFINES=[
        ("ARDUINO", 10807),
        "ARDUINO_ARCH_AVR",
        # The packaged core's WString.cpp needs DECIMAL_DIG, which avr-gcc 5.4 defines for C99 C only.
        ("DECIMAL_DIG", "__DECIMAL_DIG__"),
    ],
    CPPPATH=[CORE_DIR, VARIANT_DIR],
    LIBSOURCE_DIRS=[os.path.join(FRAMEWORK_DIR, "libraries")],
)
env.Prepend(LIBS=[env.BuildLibrary(os.path.join("$BUILD_DIR", "FrameworkArduino"), CORE_DIR)])
