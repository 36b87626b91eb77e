# The host-native helpers (fw_native.py) are shared by the tests here and by bench/firmware_wire.py.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
