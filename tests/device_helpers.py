"""What a computation on a GPU would take from the host, seen without one:
on fake CUDA tensors (shapes, no data: torch's FakeTensorMode) every
operation handed a tensor that lives on the CPU is recorded (a copy to the
GPU each step)."""

import contextlib

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


class HostOps(TorchDispatchMode):
    """``with HostOps() as seen: ...``; ``seen.ops`` lists the operations
    given a CPU tensor."""

    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if any(isinstance(a, torch.Tensor) and a.device.type == "cpu"
               for a in tree_leaves((args, kwargs))):
            self.ops.append(str(func))
        return func(*args, **kwargs)


@contextlib.contextmanager
def fake_gpu():
    """``with fake_gpu(): ...`` builds and moves tensors and modules to a
    fake "cuda"; inside, ``with HostOps() as seen`` records."""
    with FakeTensorMode(allow_non_fake_inputs=True):
        yield
