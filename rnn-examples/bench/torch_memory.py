#!/usr/bin/env python3
"""Torch's peak memory for the training step of the shared benchmark protocol.

For each configuration, in a fresh process: import torch and take the peak resident set size
(resource.getrusage(RUSAGE_SELF).ru_maxrss); run the same training step on a module of the same
kind with every size 1 (which loads what torch loads lazily on a first step: the optimizer's
modules, the autograd engine, the kernels' libraries) and take the peak again as the baseline;
then build the stack, head, optimizer, input and targets as torch_bench.py does and run its
training step (zero_grad, forward, head, MSE, backward, SGD step) three times, as the protocol's
two warm-ups and a first timed run. peak_rss_mb is the peak resident set size then minus the
baseline, in MB (10^6 bytes): what the step needs (parameters and gradients, data, saved
activations) and what torch's allocator keeps. peak_rss_import_mb is the same peak minus the
peak after the import alone, which counts the lazy loading too.

The project's figure to compare with is `bench`'s peak_heap_mb: the Java heap live at the
step's peak above what was live before the configuration was built.

Usage: torch_memory.py [--threads N] [--configs a,b] [--torch-bench PATH] [--json out.json]
  --torch-bench PATH takes CONFIGS, make() and ragged_lengths() from the shared torch_bench.py
  instead of this file's copy of them.
"""
import argparse
import importlib.util
import json
import resource
import subprocess
import sys

CONFIGS = {
    # name: (cell, input, hidden, layers, batch, seq), as torch_bench.py
    "seed": ("rnn_relu", 2, 2, 2, 1, 3),
    "elman-s": ("rnn_tanh", 32, 128, 2, 32, 64),
    "lstm-m": ("lstm", 64, 256, 1, 64, 100),
    "gru-m": ("gru", 64, 256, 1, 64, 100),
    "lstm-l": ("lstm", 256, 512, 2, 64, 50),
    "lstm-ragged": ("lstm", 64, 256, 1, 64, 200),
}
RAGGED = {"lstm-ragged"}


def ragged_lengths(batch, seq):
    return [1 + ((seq - 1) * i) // (batch - 1) for i in range(batch)]


def make(cell, inp, hid, layers):
    import torch
    if cell.startswith("rnn"):
        rnn = torch.nn.RNN(inp, hid, layers, nonlinearity=cell[4:], batch_first=True)
    elif cell == "lstm":
        rnn = torch.nn.LSTM(inp, hid, layers, batch_first=True)
    else:
        rnn = torch.nn.GRU(inp, hid, layers, batch_first=True)
    head = torch.nn.Linear(hid, inp)
    return rnn, head


def maxrss_bytes():
    # Linux reports kilobytes (KiB).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(name, threads, shared):
    """Runs in the fresh process: the peak RSS of the training step of `name` above the baseline."""
    import torch
    torch.set_num_threads(threads)
    imported = maxrss_bytes()
    configs = shared.CONFIGS if shared else CONFIGS
    build = shared.make if shared else make
    lengths_of = shared.ragged_lengths if shared else ragged_lengths
    cell, inp, hid, layers, batch, seq = configs[name]
    train_step = step(torch, build, cell, 1, 1, 1, 1, 1, None)
    train_step()
    baseline = maxrss_bytes()
    torch.manual_seed(0)
    train_step = step(torch, build, cell, inp, hid, layers, batch, seq,
                      lengths_of(batch, seq) if name in RAGGED else None)
    built = maxrss_bytes()
    for _ in range(3):
        train_step()
    peak = maxrss_bytes()
    return {"config": name, "threads": threads, "torch": torch.__version__,
            "import_rss_mb": imported / 1e6, "baseline_rss_mb": baseline / 1e6,
            "built_rss_mb": (built - baseline) / 1e6, "peak_rss_mb": (peak - baseline) / 1e6,
            "peak_rss_import_mb": (peak - imported) / 1e6}


def step(torch, build, cell, inp, hid, layers, batch, seq, lengths):
    """The protocol's training step over a new module and data, as torch_bench.py builds them."""
    rnn, head = build(cell, inp, hid, layers)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=0.01)
    x = torch.randn(batch, seq, inp)
    y = torch.randn(batch, seq, inp)
    if lengths is not None:
        lengths = torch.tensor(lengths)
        pack = torch.nn.utils.rnn.pack_padded_sequence
        yp = pack(y, lengths, batch_first=True, enforce_sorted=False).data

        def train_step():
            opt.zero_grad()
            out, _ = rnn(pack(x, lengths, batch_first=True, enforce_sorted=False))
            loss = torch.nn.functional.mse_loss(head(out.data), yp)
            loss.backward()
            opt.step()
    else:
        def train_step():
            opt.zero_grad()
            out, _ = rnn(x)
            loss = torch.nn.functional.mse_loss(head(out), y)
            loss.backward()
            opt.step()
    return train_step


def load_shared(path):
    spec = importlib.util.spec_from_file_location("torch_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--configs", default=",".join(c for c in CONFIGS if c not in RAGGED))
    ap.add_argument("--torch-bench", help="path of the shared torch_bench.py")
    ap.add_argument("--json")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # the fresh process of one configuration
    a = ap.parse_args()
    if a.one:
        shared = load_shared(a.torch_bench) if a.torch_bench else None
        print(json.dumps(measure(a.one, a.threads, shared)))
        return
    rows = []
    for name in a.configs.split(","):
        if name not in CONFIGS:
            sys.exit(f"torch_memory.py: unknown config '{name}'; expected one of "
                     + ", ".join(CONFIGS))
        cmd = [sys.executable, __file__, "--one", name, "--threads", str(a.threads)]
        if a.torch_bench:
            cmd += ["--torch-bench", a.torch_bench]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    for r in rows:
        print(f"{r['config']:11s} threads={r['threads']} torch {r['torch']:12s} "
              f"peak_rss_mb={r['peak_rss_mb']:9.2f} (model and data {r['built_rss_mb']:.2f}; "
              f"above the import alone {r['peak_rss_import_mb']:.2f})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
