"""Intermediate fusion (skfusion.nn): wrapper overhead, accuracy on mfeat, GPU throughput.

1. Training time per epoch of ``IntermediateFusionClassifier`` against
   (a) a hand-written torch loop over the same module, data, batch size and
       optimiser (baseline; target ratio <= 1.1), and
   (b) a plain skorch ``NeuralNetClassifier`` over the same module with its
       default ``Dataset`` + ``DataLoader`` (speed-up printed).
2. ``load_mfeat`` (2000 digits, 6 modalities): StratifiedKFold(10,
   shuffle=True, random_state=0) accuracy of every ``fusion`` value beside
   early fusion (``FeatureFusion`` + logistic regression) and late fusion
   (``WeightedVoteFusion`` of per-modality logistic regressions).
3. With CUDA: training samples per second at 1,000,000 rows x (16 + 384)
   float32 columns, batch 4096, and the ratio to the CPU figure.
4. The cross-modal XOR task (``make_multimodal_classification`` with
   ``signal=0``, ``interaction=3``, ``noise=0.2``: the label is whether the
   signs of a latent of ``a`` and a latent of ``b`` agree, so each modality
   alone is at chance): test accuracy of every ``fusion`` value over three
   data seeds, beside logistic regression on each modality and on both, and
   the Bayes accuracy in closed form.

torch and BLAS run on the same number of threads (``--threads``, default 1)
for every side.

Usage::

    python benchmarks/bench_nn.py            # full run
    python benchmarks/bench_nn.py --quick    # fewer rows, epochs and folds
    python benchmarks/bench_nn.py --only mfeat --fusions graph attention
"""

import argparse
import math
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from skfusion.nn import IntermediateFusionClassifier
from skfusion.nn._modules import FusionNetwork

FUSIONS = ["concat", "sum", "gated", "attention", "tensor", "lowrank", "graph"]


def _synthetic(n_samples, widths, seed=0):
    """Two modalities (float32) whose label needs both; pure numpy, no skfusion."""
    rng = np.random.default_rng(seed)
    blocks = [rng.standard_normal((n_samples, w), dtype=np.float32) for w in widths]
    y = ((blocks[0][:, 0] * blocks[1][:, 0] + 0.5 * blocks[1][:, 1]) > 0).astype(np.int64)
    X = np.concatenate(blocks, axis=1)
    starts = np.cumsum([0, *widths])
    modalities = {f"m{i}": list(range(starts[i], starts[i + 1])) for i in range(len(widths))}
    return X, y, modalities


# ---------------------------------------------------------------- 1. overhead


def _module_kwargs(modalities):
    return dict(columns=list(modalities.values()), n_outputs=2, latent_dim=32, fusion="concat",
                encoder_hidden_sizes=(64,), head_hidden_sizes=(64,))


def _hand_loop(X, y, modalities, batch_size, epochs, lr, device):
    """The baseline: what one writes by hand, data on the device, batches sliced."""
    torch.manual_seed(0)
    module = FusionNetwork(**_module_kwargs(modalities)).to(device)
    optimizer = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=1e-2)
    criterion = torch.nn.CrossEntropyLoss()
    x = torch.from_numpy(X).to(device)
    present = torch.ones(len(X), len(modalities), dtype=torch.bool, device=device)
    target = torch.from_numpy(y).to(device)
    n = len(X)
    module.train()
    for _ in range(epochs):
        order = torch.randperm(n, device=device)
        total = 0.0
        for i in range(0, n, batch_size):
            rows = order[i:i + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(module(x[rows], present[rows]), target[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)  # an epoch loss, as any loop reports


def _ours(X, y, modalities, batch_size, epochs, lr, device):
    # The same module and training as the baseline loops: raw float32 X
    # (standardize=False), 64-wide encoders, no held-out split (early stopping
    # would also run a validation pass each epoch).
    IntermediateFusionClassifier(
        modalities, latent_dim=32, fusion="concat", encoder_hidden_sizes=(64,), lr=lr,
        batch_size=batch_size, max_epochs=epochs, early_stopping=False, standardize=False,
        device=device, random_state=0,
    ).fit(X, y)


def _plain_skorch(X, y, modalities, batch_size, epochs, lr, device):
    from skorch import NeuralNetClassifier

    torch.manual_seed(0)
    net = NeuralNetClassifier(
        FusionNetwork, **{f"module__{k}": v for k, v in _module_kwargs(modalities).items()},
        criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.AdamW,
        optimizer__weight_decay=1e-2, lr=lr, batch_size=batch_size, max_epochs=epochs,
        iterator_train__shuffle=True, train_split=None, verbose=0, device=device,
    )
    present = np.ones((len(X), len(modalities)), dtype=bool)
    net.fit({"x": X, "present": present}, y)


def _timed(run, device, *args):
    """Seconds of one call: CPU time of this process on CPU (other processes on a
    shared machine do not count), wall time after synchronising on CUDA."""
    if device == "cpu":
        start = time.process_time()
        run(*args, device)
        return time.process_time() - start
    torch.cuda.synchronize()
    start = time.perf_counter()
    run(*args, device)
    torch.cuda.synchronize()
    return time.perf_counter() - start


def bench_overhead(quick, device="cpu"):
    n, widths, batch_size = (8192, (16, 112), 256) if quick else (32768, (16, 112), 256)
    epochs, repeats = (3, 2) if quick else (5, 3)
    X, y, modalities = _synthetic(n, widths)
    clock = "process CPU time" if device == "cpu" else "wall time"
    print(f"\n1. Time per epoch, {n} rows x {sum(widths)} columns (2 modalities), batch "
          f"{batch_size}, fusion='concat', AdamW, device={device}: ({clock} of a "
          f"{1 + epochs}-epoch fit - that of a 1-epoch fit) / {epochs}, so set-up and the "
          f"first epoch's warm-up cancel; best of {repeats} interleaved repeats")
    sides = [
        ("hand-written torch loop (baseline)", _hand_loop),
        ("IntermediateFusionClassifier", _ours),
        ("skorch NeuralNetClassifier + DataLoader", _plain_skorch),
    ]
    for _, run in sides:  # warm-up: torch's lazy initialisation, allocator pools
        run(X, y, modalities, batch_size, 1, 1e-3, device)
    per_epoch = {name: [] for name, _ in sides}
    for _ in range(repeats):
        for name, run in sides:
            one = _timed(run, device, X, y, modalities, batch_size, 1, 1e-3)
            many = _timed(run, device, X, y, modalities, batch_size, 1 + epochs, 1e-3)
            per_epoch[name].append((many - one) / epochs)
    rows = [(name, min(per_epoch[name])) for name, _ in sides]
    base = rows[0][1]
    print(f"   {'':42s} {'s/epoch':>9s} {'ratio to baseline':>18s}")
    for name, seconds in rows:
        print(f"   {name:42s} {seconds:9.3f} {seconds / base:18.3f}")
    ours, skorch_plain = rows[1][1], rows[2][1]
    print(f"   wrapper / hand loop = {ours / base:.3f} (target <= 1.1); "
          f"speed-up over plain skorch DataLoader = {skorch_plain / ours:.2f}x")


# ---------------------------------------------------------------- 2. mfeat


def bench_mfeat(quick, fusions=FUSIONS, baselines=True):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skfusion.datasets import load_mfeat

    bunch = load_mfeat()
    X, y, modalities = bunch.data, bunch.target, bunch.modalities
    n_splits = 3 if quick else 10
    cv = StratifiedKFold(n_splits, shuffle=True, random_state=0)
    epochs = 15 if quick else 40
    print(f"\n2. load_mfeat {X.shape}, {len(modalities)} modalities: StratifiedKFold({n_splits}, "
          f"shuffle=True, random_state=0) accuracy, networks at max_epochs={epochs}, "
          "latent_dim=32 (3 for 'tensor': a 4**6 = 4096-wide product)")
    rows = []
    for fusion in fusions:
        clf = IntermediateFusionClassifier(
            modalities, fusion=fusion, latent_dim=3 if fusion == "tensor" else 32,
            n_heads=4, max_epochs=epochs, lr=2e-3, dropout=0.1, device="cpu", random_state=0,
        )
        rows.append((f"intermediate, fusion={fusion!r}", clf))
    try:
        if not baselines:
            raise ImportError
        from skfusion import FeatureFusion

        rows.append(("early: FeatureFusion + logistic",
                     make_pipeline(FeatureFusion(modalities), LogisticRegression(max_iter=2000))))
    except ImportError:
        print("   (skfusion.FeatureFusion unavailable: early fusion skipped)")
    try:
        if not baselines:
            raise ImportError
        from skfusion import WeightedVoteFusion

        branch = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        rows.append(("late: WeightedVoteFusion(logistic)", WeightedVoteFusion(branch, modalities)))
    except ImportError:
        print("   (skfusion.WeightedVoteFusion unavailable: late fusion skipped)")
    print(f"   {'':40s} {'accuracy':>9s} {'std':>7s} {'fit s/fold':>11s}")
    for name, estimator in rows:
        start = time.perf_counter()
        scores = cross_val_score(estimator, X, y, cv=cv)
        per_fold = (time.perf_counter() - start) / n_splits
        print(f"   {name:40s} {scores.mean():9.4f} {scores.std():7.4f} {per_fold:11.2f}")


# ---------------------------------------------------------------- 3. GPU


def bench_gpu(quick):
    print("\n3. GPU throughput, 1,000,000 x (16 + 384) float32, batch 4096")
    if not torch.cuda.is_available():
        print("   skipped: torch sees no CUDA device")
        return
    n = 200_000 if quick else 1_000_000
    X, y, modalities = _synthetic(n, (16, 384))
    results = {}
    for device, n_rows, amp in [("cpu", min(n, 100_000), False), ("cuda", n, False),
                                ("cuda", n, True)]:
        clf = IntermediateFusionClassifier(
            modalities, fusion="attention", n_heads=4, batch_size=4096, max_epochs=3,
            device=device, amp=amp, random_state=0,
        ).fit(X[:n_rows], y[:n_rows])
        seconds = statistics.median(clf.net_.history[1:, "dur"])
        results[(device, amp)] = n_rows / seconds
        print(f"   {device:5s} amp={amp!s:5s} {n_rows:>9d} rows: "
              f"{n_rows / seconds:12.0f} samples/s")
    cpu = results[("cpu", False)]
    print(f"   CUDA / CPU = {results[('cuda', False)] / cpu:.1f}x, "
          f"CUDA+amp / CPU = {results[('cuda', True)] / cpu:.1f}x")


# ---------------------------------------------------------------- 4. cross-modal XOR


def bench_xor(quick, fusions=FUSIONS):
    from sklearn.linear_model import LogisticRegression

    from skfusion.datasets import make_multimodal_classification

    n_samples, n_train, seeds = 1000, 700, (0,) if quick else (0, 1, 2)
    noise, interaction = 0.2, 3.0
    # Each modality shows interaction * u_m on a unit vector plus N(0, noise^2)
    # per column: its sign is read wrongly with probability arctan(noise /
    # interaction) / pi, and the label (the signs agree) right when both or
    # neither are misread.
    flip = math.atan(noise / interaction) / math.pi
    bayes = (1 - flip) ** 2 + flip**2
    print(f"\n4. cross-modal XOR: make_multimodal_classification({n_samples}, a: 3, b: 3, "
          f"signal=0, interaction={interaction}, noise={noise}), first {n_train} rows train, "
          f"the rest test, data seeds {list(seeds)}; networks at max_epochs=20, lr=1e-2, "
          f"defaults otherwise. Bayes accuracy {bayes:.3f}")
    scores = {}
    for seed in seeds:
        X, y, modalities = make_multimodal_classification(
            n_samples, {"a": 3, "b": 3}, signal=0.0, interaction=interaction, noise=noise,
            random_state=seed,
        )
        X_train, X_test, y_train, y_test = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
        for name, cols in [("logistic on a", modalities["a"]), ("logistic on b", modalities["b"]),
                           ("logistic on a and b", slice(None))]:
            model = LogisticRegression().fit(X_train[:, cols], y_train)
            scores.setdefault(name, []).append(model.score(X_test[:, cols], y_test))
        for fusion in fusions:
            clf = IntermediateFusionClassifier(
                modalities, fusion=fusion, latent_dim=3 if fusion == "tensor" else 32,
                max_epochs=20, lr=1e-2, device="cpu", random_state=0,
            )
            start = time.perf_counter()
            clf.fit(X_train, y_train)
            seconds = time.perf_counter() - start
            scores.setdefault(f"intermediate, fusion={fusion!r}", []).append(
                clf.score(X_test, y_test))
            scores.setdefault(f"fit s, fusion={fusion!r}", []).append(seconds)
    print(f"   {'':40s} {'mean acc':>9s} {'min acc':>8s} {'fit s':>7s}")
    for name, values in scores.items():
        if name.startswith("fit s"):
            continue
        fit = scores.get(name.replace("intermediate", "fit s"), [])
        fit_text = f"{statistics.mean(fit):7.2f}" if name.startswith("inter") else f"{'':7s}"
        print(f"   {name:40s} {statistics.mean(values):9.4f} {min(values):8.4f} {fit_text}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows, epochs and folds")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument("--only", choices=["overhead", "mfeat", "gpu", "xor"], default=None)
    parser.add_argument("--fusions", nargs="+", choices=FUSIONS, default=FUSIONS,
                        help="fusion values of sections 2 and 4 (default: all)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip early and late fusion in section 2")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} torch/BLAS thread(s), "
          f"CUDA {'available' if torch.cuda.is_available() else 'not available'}"
          f"{' (quick run)' if args.quick else ''}")
    with threadpool_limits(args.threads):
        if args.only in (None, "overhead"):
            bench_overhead(args.quick)
            if torch.cuda.is_available():
                bench_overhead(args.quick, device="cuda")
        if args.only in (None, "mfeat"):
            bench_mfeat(args.quick, args.fusions, baselines=not args.no_baselines)
        if args.only in (None, "gpu"):
            bench_gpu(args.quick)
        if args.only in (None, "xor"):
            bench_xor(args.quick, args.fusions)


if __name__ == "__main__":
    main()
