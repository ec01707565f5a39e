"""PyTorch side of optilog-bench --torch: one study model (the same layers, shapes and losses as
keras_epoch.py builds) trained with Adam (Keras's epsilon 1e-7), batch 32, on random data of the
canonical shapes; one warm-up epoch, then N timed epochs; prints `RESULT {json}`.

usage: BENCH_THREADS=n python torch_epoch.py TASK SAMPLES EPOCHS
       TASK: boston | fashion_mnist | imdb | jena
BENCH_THREADS=n keeps the process on n cores (CPU affinity) and sets torch's intra-op threads to n.
"""
import json
import os
import sys
import time

THREADS = int(os.environ.get("BENCH_THREADS", "0"))
if THREADS:
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:THREADS]))
import numpy as np
import torch
from torch import nn

if THREADS:
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(THREADS)


class LastStep(nn.Module):
    """LSTM(32) returning the last hidden state, as Keras's LSTM with return_sequences=False."""
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(14, 32, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0][:, -1, :]


class GlobalMax(nn.Module):
    def forward(self, x):
        return x.amax(dim=2)


class ChannelsFirst(nn.Module):
    """Keras's Conv1D reads [batch, steps, channels]; torch's Conv1d reads [batch, channels, steps]."""
    def forward(self, x):
        return x.transpose(1, 2)


def model_and_data(task, n, rs):
    if task == "boston":
        m = nn.Sequential(nn.Linear(13, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
        return m, rs.normal(size=(n, 13)).astype("float32"), rs.normal(size=(n, 1)).astype("float32"), nn.L1Loss()
    if task == "fashion_mnist":
        m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
        return m, rs.uniform(size=(n, 1, 28, 28)).astype("float32"), rs.randint(0, 10, size=n), nn.CrossEntropyLoss()
    if task == "imdb":
        m = nn.Sequential(nn.Embedding(10000, 128), ChannelsFirst(), nn.Conv1d(128, 32, 7), nn.ReLU(), nn.MaxPool1d(5),
                          nn.Conv1d(32, 32, 7), nn.ReLU(), GlobalMax(), nn.Linear(32, 1), nn.Sigmoid())
        return m, rs.randint(1, 10000, size=(n, 500)), rs.randint(0, 2, size=(n, 1)).astype("float32"), nn.BCELoss()
    if task == "jena":
        m = nn.Sequential(LastStep(), nn.Linear(32, 1))
        return m, rs.normal(size=(n, 120, 14)).astype("float32"), rs.normal(size=(n, 1)).astype("float32"), nn.L1Loss()
    raise SystemExit(f"unknown task {task}")


def main():
    task, n, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rs = np.random.RandomState(0)
    torch.manual_seed(0)
    model, x, y, loss_fn = model_and_data(task, n, rs)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7)
    seconds = []
    for _ in range(1 + epochs):
        start = time.perf_counter()
        order = torch.randperm(n)
        for b in range(0, n, 32):
            rows = order[b:b + 32]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[rows]), y[rows])
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    rates = sorted(n / s for s in seconds[1:])
    print("RESULT " + json.dumps(dict(task=task, torch=torch.__version__, threads=torch.get_num_threads(), samples=n,
                                      warmup_s=seconds[0], epoch_s=seconds[1:], samples_per_s_median=float(np.median(rates)),
                                      params=sum(p.numel() for p in model.parameters()))))


if __name__ == "__main__":
    main()
