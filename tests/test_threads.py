"""mixviz.threads.CORES: the cores a process may use, or MIXVIZ_CORES where a container's CPU limit or replicas
sharing one machine say fewer (torch would start a thread per host core otherwise)."""
import os
import subprocess
import sys

import pytest

CODE = "from mixviz.threads import CORES; print(CORES)"


def cores(value: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MIXVIZ_CORES"}
    if value is not None:
        env["MIXVIZ_CORES"] = value
    return subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=120)


def test_the_cores_allowed_by_default_and_the_count_given():
    assert int(cores(None).stdout) == len(os.sched_getaffinity(0))
    assert int(cores("1").stdout) == 1 and int(cores(" 3 ").stdout) == 3


@pytest.mark.parametrize("bad", ["two", "0"])
def test_a_bad_count_is_refused_by_name(bad):
    run = cores(bad)
    assert run.returncode != 0 and "MIXVIZ_CORES must be" in run.stderr
