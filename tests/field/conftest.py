# The field week's modules (week.py and what it imports) and the host-native build helpers they use.
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "firmware"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a long test (the simulated field week); the slow tier runs it")
