"""The peers of `wsss bench`: what a user would run instead, timed in the same run as ours.

Reads {"ops": [...], "size": "standard" | "small", "runs": n, "threads": n} as JSON on stdin and writes one JSON
object per line to stdout: {"op", "peer", "shape", "times": [ms, ...]} for each op it has a peer for, or
{"op", "skipped": reason}. Shapes and inputs are made the way `wsss bench` makes ours (same sizes, same kind of
values, seeded); one warm-up call, then `runs` timed calls, each to completion on the host.

Peers: pydensecrf (dense CRF; PYTHONPATH to its build), PyTorch (affinity losses, cross-task affinity, LR,
MobileNetV2 through torchvision), SciPy (the random walk as sparse products).
"""
import json
import sys
import time

import numpy as np

args = json.load(sys.stdin)
SIZE = args["size"]
RUNS = int(args["runs"])
THREADS = int(args.get("threads", 1))
STANDARD = SIZE == "standard"


def emit(**record):
    print(json.dumps(record), flush=True)


def timed(run):
    run()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def torch_module():
    import torch

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    return torch


def peer_name(torch):
    return f"PyTorch {torch.__version__.split('+')[0]} ({THREADS} thread{'s' if THREADS > 1 else ''})"


def crf():
    import pydensecrf.densecrf as dcrf
    from pydensecrf.utils import unary_from_softmax

    width, height = (321, 321) if STANDARD else (40, 40)
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    image = np.stack([255 * x / width, 255 * y / height, np.where((x >> 4) % 2, 200, 60)], 2).astype(np.uint8)
    logits = 3 * np.random.default_rng(2).standard_normal((21, height * width))
    softmax = np.exp(logits) / np.exp(logits).sum(0, keepdims=True)
    softmax = softmax.astype(np.float32)
    image = np.ascontiguousarray(image)

    def run():
        d = dcrf.DenseCRF2D(width, height, 21)
        d.setUnaryEnergy(np.ascontiguousarray(unary_from_softmax(softmax)))
        d.addPairwiseGaussian(sxy=3, compat=3)
        d.addPairwiseBilateral(sxy=80, srgb=13, rgbim=image, compat=10)
        np.argmax(np.array(d.inference(10)), 0)

    return "pydensecrf (1 thread)", f"{width}x{height}", run


def random_walk():
    import scipy.sparse as sp

    h, w, c = (56, 56, 21) if STANDARD else (16, 16, 4)
    rng = np.random.default_rng(5)
    n = h * w
    features = rng.standard_normal((h, w, 16)).astype(np.float32)
    rows, cols, values = [], [], []
    radius = 5
    for dy in range(0, radius):
        for dx in range(-radius + 1, radius):
            if dy == 0 and dx <= 0 or dx * dx + dy * dy >= radius * radius:
                continue
            ys, xs = np.mgrid[0 : h - dy, max(0, -dx) : w - max(0, dx)]
            a = np.exp(-np.abs(features[ys, xs] - features[ys + dy, xs + dx]).mean(-1))
            i = (ys * w + xs).ravel()
            j = ((ys + dy) * w + xs + dx).ravel()
            rows += [i, j]
            cols += [j, i]
            values += [a.ravel(), a.ravel()]
    rows, cols, values = np.concatenate(rows), np.concatenate(cols), np.concatenate(values) ** 8
    scores = rng.uniform(0, 1, (c, n)).astype(np.float32)

    def run():
        # psa's walk: T = D^-1 (A + I)^beta, 2^8 steps of scores @ T, as sparse products
        a = sp.csr_matrix((values, (rows, cols)), shape=(n, n)) + sp.identity(n, format="csr")
        t = sp.diags(1 / np.asarray(a.sum(1)).ravel()) @ a
        s = scores
        for _ in range(256):
            s = (t.T @ s.T).T
        return s

    return "SciPy sparse (1 thread)", f"{h}x{w}, {c} channels", run


def affinity_loss(adaptive):
    torch = torch_module()
    import torch.nn.functional as F

    b, h, w, c = (8, 41, 41, 21) if STANDARD else (2, 12, 12, 4)
    logits = torch.randn(b, c, h, w, requires_grad=True)
    labels = torch.randint(0, c, (b, 6, 6))
    labels = F.interpolate(labels[:, None].float(), size=(h, w), mode="nearest")[:, 0].long()

    def run():
        logits.grad = None
        p = torch.softmax(logits, 1).clamp(1e-4, 1 - 1e-4)
        # binary KL per class summed (the AA/LR code's divergence), 8 neighbours at each dilation
        log_p, log_q = torch.log(p), torch.log(1 - p)
        v = p.max(1)[0].detach() if adaptive else None
        total = 0
        for d in (4, 8, 12, 24):
            pad = lambda t, value: F.pad(t, (d, d, d, d), value=value)  # noqa: E731
            pp, lp, lq = pad(p, 0.5), pad(log_p, 0.0), pad(log_q, 0.0)
            lab = pad(labels[:, None].float(), 255.0)
            vp = pad(v[:, None], 0.0) if adaptive else None
            for dy in (-d, 0, d):
                for dx in (-d, 0, d):
                    if dy == 0 and dx == 0:
                        continue
                    sl = (slice(None), slice(None), slice(d + dy, d + dy + h), slice(d + dx, d + dx + w))
                    q = pp[sl]
                    kl = (q * (torch.log(q) - log_p) + (1 - q) * (torch.log(1 - q) - log_q)).sum(1)
                    other = lab[sl][:, 0]
                    valid = (other != 255).float()
                    same = (other == labels.float()).float() * valid
                    diff = (1 - same) * valid
                    omega = torch.maximum(v, vp[sl][:, 0]) if adaptive else 1
                    pos = (omega * kl * same).sum() / same.sum().clamp(min=1)
                    neg = (F.relu(omega * 3 - kl) * diff).sum() / diff.sum().clamp(min=1)
                    total = total + pos + 2 * neg
        total.backward()

    name = "affinity-aa" if adaptive else "affinity-sa"
    return peer_name(torch), f"[{b},{h},{w},{c}]", run, name


def cross_task():
    torch = torch_module()

    b, h, w, c = (8, 41, 41, 256) if STANDARD else (2, 12, 12, 16)
    features = torch.randn(b, h * w, c, requires_grad=True)
    theta, phi = torch.nn.Linear(c, c), torch.nn.Linear(c, c)
    cam, saliency = torch.randn(b, h * w, 21), torch.randn(b, h * w, 1)

    def run():
        features.grad = None
        affinity = torch.softmax(theta(features) @ phi(features).transpose(1, 2) / 16, -1)
        loss = (affinity @ cam).pow(2).mean() + (affinity @ saliency).pow(2).mean()
        loss.backward()

    return peer_name(torch), f"F[{b},{h},{w},{c}]", run


def label_reassign():
    torch = torch_module()
    import torch.nn.functional as F

    b, h, w, d = (8, 41, 41, 512) if STANDARD else (2, 12, 12, 16)
    embeddings = torch.randn(b, h * w, d, requires_grad=True)
    labels = torch.randint(0, 21, (b, 6, 6))
    labels = F.interpolate(labels[:, None].float(), size=(h, w), mode="nearest")[:, 0].long().view(b, -1)
    probabilities = torch.softmax(torch.randn(b, h * w, 21), -1)

    def run():
        # centroids of each image's classes (weighted by the probability of the label), cosine similarity, the
        # reassigned centroid, margin 1 hinge over the others, gamma 2 focal weight; bg and fg means
        embeddings.grad = None
        onehot = F.one_hot(labels, 21).float() * probabilities.gather(2, labels[..., None])
        centroids = onehot.transpose(1, 2) @ embeddings / onehot.sum(1)[..., None].clamp(min=1e-6)
        s = F.normalize(embeddings, dim=-1) @ F.normalize(centroids, dim=-1).transpose(1, 2)
        present = onehot.sum(1) > 0
        s = s.masked_fill(~present[:, None], -2)
        own = s.argmax(-1, keepdim=True)
        si = s.gather(2, own)
        hinge = (F.relu(s + 1 - si) * present[:, None]).sum(-1)
        alpha = (1 - torch.softmax(s * 10, -1).gather(2, own)[..., 0]).detach() ** 2
        background = labels == 0
        loss = (alpha * hinge * background).sum() / background.sum().clamp(min=1) + (
            alpha * hinge * ~background
        ).sum() / (~background).sum().clamp(min=1)
        loss.backward()

    return peer_name(torch), f"[{b},{h},{w},{d}]", run


def triplet_centre():
    torch = torch_module()
    import torch.nn.functional as F

    b, h, w, d = (8, 41, 41, 512) if STANDARD else (2, 12, 12, 16)
    embeddings = torch.randn(b, h * w, d, requires_grad=True)
    labels = torch.randint(0, 21, (b, 6, 6))
    labels = F.interpolate(labels[:, None].float(), size=(h, w), mode="nearest")[:, 0].long().view(-1)

    def run():
        # centres = the batch's class means, cosine distance, the hardest other centre, margin 0.3
        embeddings.grad = None
        x = embeddings.view(-1, d)
        classes, index = torch.unique(labels, return_inverse=True)
        onehot = F.one_hot(index, len(classes)).float()
        centres = onehot.t() @ x / onehot.sum(0)[:, None]
        distance = 1 - F.normalize(x, dim=-1) @ F.normalize(centres, dim=-1).t()
        positive = distance.gather(1, index[:, None])[:, 0]
        negative = distance.masked_fill(onehot.bool(), float("inf")).min(1).values
        F.relu(positive - negative + 0.3).mean().backward()

    return peer_name(torch), f"[{b},{h},{w},{d}]", run


def mobilenet_features(torch, width, output_stride):
    """torchvision's MobileNetV2 features at output stride 32, or 16 as ours (the last stride-2 block keeps its
    resolution), with batch norm as an affine map (ours is folded into the convolutions), and a 1x1 head of 20."""
    import torchvision

    net = torchvision.models.mobilenet_v2(width_mult=width).features
    if output_stride == 16:
        for module in net.modules():
            if isinstance(module, torch.nn.Conv2d) and module.stride == (2, 2) and module.in_channels >= int(576 * width):
                module.stride = (1, 1)
    net.eval()
    head = torch.nn.Conv2d(net[-1][0].out_channels, 20, 1, bias=False)
    return net, head


def sgd_step(output_stride):
    torch = torch_module()
    width, batch, side = (1.0, 8, 128) if STANDARD else (0.35, 1, 64)
    net, head = mobilenet_features(torch, width, output_stride)
    images = torch.rand(batch, 3, side, side) * 2 - 1
    labels = (torch.rand(batch, 20) > 0.8).float()
    optimizer = torch.optim.SGD(list(net.parameters()) + list(head.parameters()), lr=1e-3, momentum=0.9, weight_decay=5e-4)

    def run():
        optimizer.zero_grad()
        logits = head(net(images)).mean((2, 3))
        loss = torch.nn.functional.multilabel_soft_margin_loss(logits, labels)
        loss.backward()
        optimizer.step()
        loss.item()

    return peer_name(torch), f"{batch}x{side}x{side}x3, width {width}", run


def mobilenet(training):
    torch = torch_module()
    width, batch, side = (1.0, 4 if training else 1, 224 if training else 320) if STANDARD else (0.35, 1, 64)
    net, head = mobilenet_features(torch, width, 16)
    images = torch.rand(batch, 3, side, side) * 2 - 1
    labels = (torch.rand(batch, 20) > 0.8).float()

    def run():
        if training:
            net.zero_grad()
            head.zero_grad()
            logits = head(net(images)).mean((2, 3))
            torch.nn.functional.multilabel_soft_margin_loss(logits, labels).backward()
        else:
            with torch.no_grad():
                torch.relu(head(net(images)))

    return peer_name(torch), f"{batch}x{side}x{side}x3, width {width}", run


PEERS = {
    "crf": crf,
    "random-walk": random_walk,
    "affinity-sa": lambda: affinity_loss(False)[:3],
    "affinity-aa": lambda: affinity_loss(True)[:3],
    "cross-task": cross_task,
    "label-reassign": label_reassign,
    "cam-inference": lambda: mobilenet(False),
    "training-step": lambda: mobilenet(True),
    "triplet-centre": triplet_centre,
    "train-step-os32": lambda: sgd_step(32),
    "train-step-os16": lambda: sgd_step(16),
}

for op in args["ops"]:
    if op not in PEERS:
        emit(op=op, skipped="no peer for this kernel")
        continue
    try:
        peer, shape, run = PEERS[op]()
    except ImportError as error:
        emit(op=op, skipped=f"peer not installed ({error})")
        continue
    emit(op=op, peer=peer, shape=shape, times=timed(run))
