"""Without TensorFlow (an extra: [cpu] or [gpu]) the commands say how to install it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


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
