"""The shared simavr build's settings (tests/builds.py): the same firmware whatever the developer's shell exports."""
from builds import SETTINGS, build_environ


def test_the_shells_espat_settings_do_not_reach_the_shared_build():
    shell = {"PATH": "/usr/bin", "ESPAT_TOKEN": "t0k3n", "ESPAT_MQTT_USER": "me", "ESPAT_MQTT_PASS": "pw",
             "ESPAT_SERVER_HOST": "my.server"}
    env = build_environ(shell)
    assert {k: v for k, v in env.items() if k.startswith("ESPAT_")} == SETTINGS
    assert env["PATH"] == "/usr/bin"
