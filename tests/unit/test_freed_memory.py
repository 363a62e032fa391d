"""A recipe process reuses the memory its batches free (iaug.recipe.keep_freed_memory)."""

import ctypes.util
import os
import subprocess
import sys

import pytest

from helpers import ROOT

STEPS = r"""
import resource, sys, torch
from iaug.recipe import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
from iaug.models.recognizers import SeparableResBlock
torch.manual_seed(0)
model = SeparableResBlock()
def step():  # a batch of 256: blocks over glibc's 32 MB mapping threshold
    model(torch.randn(256, 257, 126)).sum().backward()
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode):
    env = {**os.environ, "PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", STEPS, mode], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux") or "libc.so" not in str(ctypes.util.find_library("c")),
                    reason="glibc's malloc only")
def test_training_steps_reuse_freed_memory_instead_of_faulting_it_in_again():
    default, kept = page_faults("default"), page_faults("keep")
    # measured: a seventh to a third of the page faults with it (less on a
    # core of its own, more beside other tests)
    assert kept < default / 2, (kept, default)
