"""Builds an Uno sketch the way the Arduino IDE does (arduino-core-avr's platform.txt recipe), with the
distribution's avr-gcc, and uploads it with avrdude through the board's bootloader.

These flags are the one place the project's AVR compile options live: CI's builds, the size budgets and the
emulated Uno all use what this script produces.
"""
from SCons.Script import AlwaysBuild, Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()

env.Replace(
    AR="avr-gcc-ar",
    AS="avr-gcc",
    CC="avr-gcc",
    CXX="avr-g++",
    GDB="avr-gdb",
    OBJCOPY="avr-objcopy",
    RANLIB="avr-gcc-ranlib",
    SIZETOOL="avr-size",
    ARFLAGS=["rc"],
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
    # avr-size -A: flash is .text + .data, static RAM is .data + .bss + .noinit (what `avr-size -C` adds up)
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPROGREGEXP=r"^(?:\.text|\.data|\.bootloader)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.noinit)\s+(\d+).*",
    SIZEPRINTCMD="$SIZETOOL --mcu=$BOARD_MCU -C $SOURCES",
    UPLOADER="avrdude",
    UPLOADERFLAGS=["-p", "$BOARD_MCU", "-c", "$UPLOAD_PROTOCOL", "-b", "$UPLOAD_SPEED", "-D", "-P", '"$UPLOAD_PORT"'],
    UPLOADCMD="$UPLOADER $UPLOADERFLAGS -U flash:w:$SOURCES:i",
)

env.Append(
    ASFLAGS=["-x", "assembler-with-cpp", "-flto", "-mmcu=$BOARD_MCU"],
    CCFLAGS=["-Os", "-g", "-flto", "-ffunction-sections", "-fdata-sections", "-mmcu=$BOARD_MCU"],
    CFLAGS=["-std=gnu11", "-fno-fat-lto-objects"],
    CXXFLAGS=["-std=gnu++11", "-fpermissive", "-fno-exceptions", "-fno-threadsafe-statics"],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU")],
    LINKFLAGS=["-Os", "-g", "-flto", "-fuse-linker-plugin", "-Wl,--gc-sections", "-mmcu=$BOARD_MCU"],
    LIBS=["m"],
    BUILDERS=dict(
        ElfToHex=Builder(
            action=env.VerboseAction("$OBJCOPY -O ihex -R .eeprom $SOURCES $TARGET", "Building $TARGET"),
            suffix=".hex",
        )
    ),
)

program = env.BuildProgram()
firmware = env.ElfToHex("$BUILD_DIR/${PROGNAME}", program)
env.Depends(firmware, "checkprogsize")
print_size = env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE")
AlwaysBuild(env.Alias("size", program, print_size))

# avrdude resets the board by toggling DTR as it opens the port; the bootloader then takes the sketch.
upload = env.Alias("upload", firmware, [
    env.VerboseAction(env.AutodetectUploadPort, "Looking for upload port..."),
    env.VerboseAction("$UPLOADCMD", "Uploading $SOURCE"),
])
AlwaysBuild(upload)

Default([env.Alias("buildprog", firmware), env.Alias("printsize", program, print_size)])
