"""Without TensorFlow (an extra: [cpu] or [gpu]) the commands say how to install it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, tf_noise


def test_a_missing_tensorflow_is_a_clear_exit_2(tmp_path) -> None:
    # as in an environment installed without the extra: `import tensorflow` fails
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['tensorflow'] = None\n")
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"}
    for cmd in ("from tlcli.advise import main; main()", "from tlcli.tune import main; main()"):
        p = subprocess.run([sys.executable, "-c", cmd, str(tmp_path)], capture_output=True,
                           text=True, env=env, timeout=120, cwd=tmp_path)
        out = p.stdout + p.stderr
        assert p.returncode == 2, out[-2000:]
        assert "TensorFlow is not installed" in out and "tltools[cpu]" in out
        assert "Traceback" not in out


def test_start_up_noise_is_dropped_and_other_stderr_lines_kept(capfd) -> None:
    import os

    from advisor.backbones._tf import START_UP_NOISE, _filtered_stderr

    with _filtered_stderr(START_UP_NOISE):
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called ...\n"
                    b"I0000 port.cc:153] oneDNN custom operations are on.\n"
                    b"a warning the user must see\n")
    assert capfd.readouterr().err == "a warning the user must see\n"


def test_tensorflow_imports_quietly_in_a_fresh_process_with_its_threads_set() -> None:
    # the threads are set before the first operation, which would fix the pools
    code = ("from advisor.backbones import require_tensorflow; require_tensorflow(threads=3); "
            "import tensorflow as tf; t = tf.config.threading; "
            "print(t.get_intra_op_parallelism_threads(), t.get_inter_op_parallelism_threads(), "
            "float(tf.reduce_sum(tf.ones((2,)))))")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}  # no TF_CPP_MIN_LOG_LEVEL
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=300, cwd=REPO)
    assert p.returncode == 0 and p.stdout.split() == ["3", "2", "2.0"], p.stderr[-2000:]
    assert tf_noise(p.stderr) == []
