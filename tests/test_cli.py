import subprocess
import sys

from siamlab.cli import build_parser, main


def test_help_lists_the_commands():
    help_text = build_parser().format_help()
    assert "info" in help_text


def test_module_entry_point_prints_help():
    out = subprocess.run(
        [sys.executable, "-m", "siamlab", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "commands" in out.stdout and "info" in out.stdout


def test_info_reports_the_device(capsys):
    assert main(["info"]) == 0
    assert "device" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
