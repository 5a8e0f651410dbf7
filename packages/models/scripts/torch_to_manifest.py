#!/usr/bin/env python3
"""Convert a PyTorch checkpoint (state_dict) to a TF.js weights manifest that @wsss/models loads.

    python torch_to_manifest.py res38_cls.pth out/resnet38 [--strip-prefix module.] [--drop-prefix fc8.]

Run it where PyTorch is installed (only `torch.load` needs it; the conversion itself is NumPy). Layout changes:
  - 4-D conv weights  OIHW -> HWIO  ([out, in, kh, kw] -> [kh, kw, in, out]); depthwise ([C, 1, kh, kw]) -> [kh, kw, C, 1]
  - 2-D linear weights [out, in] -> [in, out]
  - everything else (biases, BatchNorm weight/bias/running_mean/running_var) unchanged
  - `num_batches_tracked` entries are dropped
Names stay the state_dict keys (after --strip-prefix), which is what ResNet50 / ResNet38 expect.
"""
import argparse
import json
import os
import sys

import numpy as np


def convert(state, depthwise_names=()):
    """state: dict name -> np.ndarray. Returns (specs, bytes) of a TF.js weights manifest group."""
    specs, chunks = [], []
    for name, value in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        a = np.asarray(value, dtype=np.float32)
        if a.ndim == 4:
            a = a.transpose(2, 3, 0, 1) if name in depthwise_names else a.transpose(2, 3, 1, 0)
        elif a.ndim == 2:
            a = a.transpose(1, 0)
        a = np.ascontiguousarray(a)
        specs.append({"name": name, "shape": list(a.shape), "dtype": "float32"})
        chunks.append(a.astype("<f4").tobytes())
    return specs, b"".join(chunks)


def write_manifest(out_dir, specs, data, metadata=None):
    """Writes weights.bin then model.json, each through a temporary file and a rename."""
    os.makedirs(out_dir, exist_ok=True)
    for file, payload, mode in (("weights.bin", data, "wb"), ("model.json", None, "w")):
        path = os.path.join(out_dir, file)
        tmp = path + ".tmp"
        with open(tmp, mode) as f:
            if payload is not None:
                f.write(payload)
            else:
                manifest = {"format": "weights-manifest", **(metadata or {})}
                manifest["weightsManifest"] = [{"paths": ["weights.bin"], "weights": specs}]
                json.dump(manifest, f, indent=1)
        os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="a .pth file holding a state_dict (or {'state_dict': ...})")
    p.add_argument("out_dir")
    p.add_argument("--strip-prefix", default="", help="remove this prefix from every name (e.g. 'module.')")
    p.add_argument("--drop-prefix", action="append", default=[], help="leave out names starting with this")
    args = p.parse_args(argv)
    import torch  # only needed to read the checkpoint

    obj = torch.load(args.checkpoint, map_location="cpu")
    state = obj.get("state_dict", obj) if isinstance(obj, dict) else obj
    arrays = {}
    for name, tensor in state.items():
        if args.strip_prefix and name.startswith(args.strip_prefix):
            name = name[len(args.strip_prefix):]
        if any(name.startswith(d) for d in args.drop_prefix):
            continue
        arrays[name] = tensor.detach().cpu().numpy()
    specs, data = convert(arrays)
    write_manifest(args.out_dir, specs, data, {"source": {"file": os.path.basename(args.checkpoint)}})
    print(f"wrote {len(specs)} tensors ({len(data) / 1e6:.1f} MB) to {args.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
