"""TensorFlow's start-up notices stay off a normal run; anything else on stderr still shows."""

import os
import subprocess
import sys
from pathlib import Path

from tfdl.harness import quiet


def test_importing_tfdl_then_tensorflow_prints_no_start_up_notices():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TFDL_TF_LOGS")}
    proc = subprocess.run([sys.executable, "-c", "import tfdl, keras, tensorflow as tf; "
                           "print(tf.reduce_sum(tf.ones(3)).numpy())"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "3.0"
    assert "absl::InitializeLog" not in proc.stderr and "oneDNN" not in proc.stderr


def test_other_lines_written_during_the_capture_are_kept(capfd):
    with quiet._stderr_filtered():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\nE0000 a real error\n")
    assert capfd.readouterr().err == "E0000 a real error\n"


def test_a_reproduction_run_as_a_script_prints_no_start_up_notices():
    # The command users run: the script itself, whose imports must load tfdl before keras
    # (ruff's isort section order puts first-party imports first).
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TFDL_TF_LOGS")}
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "reproductions" / "hw2_mydnn.py"), "--help"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and "usage: hw2_mydnn.py" in proc.stdout
    assert proc.stderr == ""


def test_tensorflows_retracing_hint_is_dropped_and_other_warnings_kept():
    env = {k: v for k, v in os.environ.items() if k != "TFDL_TF_LOGS"}
    code = ("import tfdl, tensorflow as tf\n"
            "for n in range(8):\n"
            "    tf.function(lambda x: x + 1)(tf.constant([1.0] * (n + 1)))\n"
            "tf.get_logger().warning('a real warning')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0 and "a real warning" in proc.stderr
    assert "retracing" not in proc.stderr
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**env, "TFDL_TF_LOGS": "1"}, timeout=120)
    assert "triggered tf.function retracing" in shown.stderr
