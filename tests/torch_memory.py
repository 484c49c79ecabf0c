"""PyTorch's own measurement of a training step's peak memory, without a GPU and without memory.

The module `cnncalc export torch` writes for a spec is built under FakeTensorMode (tensors with
shapes and no data); one optimizer step on zero gradients creates the optimizer's state (a warm-up
step without the forward and backward passes, which change nothing in memory), then one measured
step runs under MemTracker, which records every allocation and free by category:
forward, loss.backward(), optimizer.step(), zero_grad(set_to_none=True). The optimizer runs its
multi-tensor step (foreach=True), PyTorch's default on GPUs. Inference is a forward pass in eval
mode under no_grad. The input batch is held by the caller throughout, as in a training loop.

`block` rounds every storage up to that many bytes, as MemTracker itself does for CUDA tensors
(the caching allocator's 512-byte blocks): the oracle for cnncalc's GPU rounding.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from math import ceil
from pathlib import Path


def build(path: Path):
    """The exported module's class and the spec's engine report."""
    from cnncalc.engine import analyze
    from cnncalc.export.torch import torch_export
    from cnncalc.parser import parse_file

    spec = parse_file(path)
    exported = torch_export(spec)
    namespace: dict = {}
    exec(compile(exported.source, f"<export of {path.name}>", "exec"), namespace)
    return namespace[exported.class_name], analyze(spec)


def optimizer_for(torch, name: str, parameters):
    optim = torch.optim
    return {
        "sgd": lambda: optim.SGD(parameters, lr=0.1, foreach=True),
        "momentum": lambda: optim.SGD(parameters, lr=0.1, momentum=0.9, foreach=True),
        "nesterov": lambda: optim.SGD(parameters, lr=0.1, momentum=0.9, nesterov=True, foreach=True),
        "rmsprop": lambda: optim.RMSprop(parameters, foreach=True),
        "adam": lambda: optim.Adam(parameters, foreach=True),
        "adamw": lambda: optim.AdamW(parameters, foreach=True),
    }[name]()


@contextmanager
def _rounded(block: int):
    """MemTracker rounds storages to 512 bytes on CUDA only; here on every device, or on none."""
    from torch.distributed._tools import mem_tracker

    original = mem_tracker._WeakRefInfo._calculate_mem_consumed
    if block > 1:
        mem_tracker._WeakRefInfo._calculate_mem_consumed = (
            lambda self: ceil(self.size * self.element_size / block) * block)
    try:
        yield
    finally:
        mem_tracker._WeakRefInfo._calculate_mem_consumed = original


@lru_cache(maxsize=None)
def measured_peak(path: Path, batch: int, optimizer: str | None, block: int = 1) -> int:
    """PyTorch's peak in bytes: of a training step with `optimizer`, or of inference when it is None."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker

    module, report = build(path)
    with FakeTensorMode(), _rounded(block):
        model = module()
        x = torch.randn(batch, *report.input_shape)
        tracker = MemTracker()
        if optimizer is None:
            model.eval()
            tracker.track_external(model, x)
            with tracker, torch.no_grad():
                model(x)
        else:
            model.train()
            opt = optimizer_for(torch, optimizer, model.parameters())

            def step():
                model(x).sum().backward()
                opt.step()
                opt.zero_grad(set_to_none=True)

            for parameter in model.parameters():  # warm-up: the optimizer's state is created (the
                parameter.grad = torch.zeros_like(parameter)  # gradients' values do not matter here)
            opt.step()
            opt.zero_grad(set_to_none=True)
            tracker.track_external(model, opt, x)
            with tracker:
                step()
        snapshot = tracker.get_tracker_snapshot("peak")
    return sum(device["Total"] for device in snapshot.values())
