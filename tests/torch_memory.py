"""PyTorch's own measurement of a training step's peak memory, without a GPU and without memory.

The module `cnncalc export torch` writes for a spec is built under FakeTensorMode (tensors with
shapes and no data); one optimizer step on zero gradients creates the optimizer's state (a warm-up
step without the forward and backward passes, which change nothing in memory), then one measured
step runs under MemTracker, which records every allocation and free by category:
forward, loss.backward(), optimizer.step(), zero_grad(set_to_none=True). The optimizer runs its
multi-tensor step (foreach=True), PyTorch's default on GPUs. Inference is a forward pass in eval
mode under no_grad. The input batch is held by the caller throughout, as in a training loop.

`mixed` measures mixed-precision training as cnncalc models it (`--mixed`; the scheme of Micikevicius
et al. and of the ZeRO paper): the module in float16 (weights, gradients, activations), a float32
master copy of the weights that the optimizer steps on, each float16 gradient converted to a float32
master gradient and freed in parameter order, then the master weights copied back into the module.

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


@contextmanager
def _default_dtype(torch, dtype):
    """Modules built in `dtype` (converting a built module's fake parameters is not supported)."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def measured_peak(path: Path, batch: int, optimizer: str | None, block: int = 1, mixed: bool = False) -> int:
    """PyTorch's peak in bytes: of a training step with `optimizer`, or of inference when it is None;
    measured once per process for each case, however the arguments are written."""
    return _measured_peak(path, batch, optimizer, block, mixed)


@lru_cache(maxsize=None)
def _measured_peak(path: Path, batch: int, optimizer: str | None, block: int, mixed: bool) -> int:
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker

    module, report = build(path)
    if mixed:
        return _mixed_peak(torch, module, report, batch, optimizer)
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


def _mixed_peak(torch, module, report, batch: int, optimizer: str) -> int:
    """The peak of one mixed-precision training step (see the module's docstring)."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.distributed._tools.mem_tracker import MemTracker

    with FakeTensorMode():
        with _default_dtype(torch, torch.float16):
            model = module()
        x = torch.randn(batch, *report.input_shape, dtype=torch.float16)
        working = list(model.parameters())
        master = [p.detach().float().requires_grad_() for p in working]
        opt = optimizer_for(torch, optimizer, master)
        for parameter in master:  # warm-up: the optimizer's state is created
            parameter.grad = torch.zeros_like(parameter)
        opt.step()
        opt.zero_grad(set_to_none=True)
        model.train()
        tracker = MemTracker()
        tracker.track_external(model, opt, x, *master)
        with tracker:
            model(x).float().sum().backward()
            for half, full in zip(working, master):
                full.grad = half.grad.float()
                half.grad = None
            opt.step()
            with torch.no_grad():
                for half, full in zip(working, master):
                    half.copy_(full)
            opt.zero_grad(set_to_none=True)
        snapshot = tracker.get_tracker_snapshot("peak")
    return sum(device["Total"] for device in snapshot.values())
