"""PlatformIO extra script (platformio.ini `extra_scripts = pre:firmware/tools/pio_generate.py`): before anything
compiles, writes the settings header (ESPAT_* from the environment, byte for byte) and the contract header
(contract.json) into the env's build folder and puts that folder first on the include path. A value the firmware
cannot carry, or a device name the collector would refuse, stops the build with one line naming the variable."""
import os
import sys

Import("env")  # noqa: F821  (SCons provides it)

sys.path.insert(0, os.path.join(env.subst("$PROJECT_DIR"), "firmware", "tools"))  # noqa: F821
import contract_header  # noqa: E402
import settings_header  # noqa: E402

out_dir = os.path.join(env.subst("$BUILD_DIR"), "generated")  # noqa: F821
try:
    contract = contract_header.load()
    texts = {settings_header.HEADER_NAME: settings_header.render(dict(os.environb), contract),
             contract_header.HEADER_NAME: contract_header.render(contract)}
except (settings_header.SettingsError, contract_header.ContractError) as e:
    sys.stderr.write(f"error: {e}\n")
    env.Exit(1)  # noqa: F821
os.makedirs(out_dir, exist_ok=True)
for name, text in texts.items():
    path = os.path.join(out_dir, name)
    # Rewritten only when it changes, so an unchanged setting does not rebuild everything.
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)
env.Prepend(CPPPATH=[out_dir])  # noqa: F821
