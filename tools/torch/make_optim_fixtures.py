#!/usr/bin/python3
"""Oracle fixtures for SharpCtr's optimizers, gradient clipping and safetensors reader.

Runs a few steps of each torch.optim optimizer on fixed inputs and writes parameters, gradients
and the parameters after every step to tests/SharpCtr.Tensors.Tests/Fixtures/optim.json, and
writes a tiny .safetensors file by hand (struct packing, so the safetensors package is not
needed) with its expected contents in safetensors_expected.json.

Run with Debian's python (torch 1.13):  /usr/bin/python3 tools/torch/make_optim_fixtures.py
Check that a file SharpCtr wrote reads in Python:  ... make_optim_fixtures.py --read FILE
"""
import json
import os
import struct
import zlib

import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "SharpCtr.Tensors.Tests", "Fixtures")
STEPS = 4


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def dense_case(name, make_optimizer, groups_spec):
    """groups_spec: list of dicts with lr/weight_decay and the shapes of that group's params."""
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    params, groups, meta_groups = [], [], []
    for spec in groups_spec:
        ps = [torch.randn(*s, generator=g).requires_grad_() for s in spec["shapes"]]
        first = len(params)
        params.extend(ps)
        groups.append({"params": ps, "lr": spec["lr"], "weight_decay": spec["weight_decay"]})
        meta_groups.append({"lr": spec["lr"], "weight_decay": spec["weight_decay"],
                            "params": list(range(first, len(params)))})
    init = [flat(p) for p in params]
    opt = make_optimizer(groups)
    steps = []
    for _ in range(STEPS):
        grads = [torch.randn(p.shape, generator=g) * 0.5 for p in params]
        for p, gr in zip(params, grads):
            p.grad = gr.clone()
        opt.step()
        steps.append({"grads": [flat(x) for x in grads], "after": [flat(p) for p in params]})
    return {"name": name, "groups": meta_groups,
            "params": [{"shape": list(p.shape), "init": i} for p, i in zip(params, init)],
            "steps": steps}


def sparse_case(name, make_optimizer, vocab=10, dim=4, lr=0.05):
    """An embedding table with sparse gradients; ids repeat so rows accumulate."""
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    emb = torch.nn.Embedding(vocab, dim, sparse=True)
    with torch.no_grad():
        emb.weight.copy_(torch.randn(vocab, dim, generator=g))
    init = flat(emb.weight)
    opt = make_optimizer([{"params": [emb.weight], "lr": lr}])
    id_sets = [[1, 3, 3, 7, 1, 1], [0, 3, 9, 9], [1, 3, 3, 7], [2, 5, 5, 5, 8]]
    steps = []
    for ids in id_sets:
        out = emb(torch.tensor(ids))
        upstream = torch.randn(out.shape, generator=g)
        opt.zero_grad()
        (out * upstream).sum().backward()
        opt.step()
        # per-occurrence row gradients: the C# side sums repeated rows itself
        steps.append({"ids": ids, "row_grads": flat(upstream), "after": [flat(emb.weight)]})
    return {"name": name, "groups": [{"lr": lr, "weight_decay": 0.0, "params": [0]}],
            "params": [{"shape": [vocab, dim], "init": init}], "steps": steps}


def clip_case():
    g = torch.Generator().manual_seed(7)
    a = torch.zeros(3, 4, requires_grad=True)
    b = torch.zeros(5, requires_grad=True)
    a.grad = torch.randn(3, 4, generator=g) * 3
    b.grad = torch.randn(5, generator=g) * 3
    grads = [flat(a.grad), flat(b.grad)]
    norm = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.5)
    return {"max_norm": 1.5, "grads": grads, "norm": float(norm),
            "clipped": [flat(a.grad), flat(b.grad)]}


def write_safetensors():
    """Layout as in the safetensors spec: u64 LE header length, JSON header padded with spaces to
    8 bytes, then raw little-endian data; offsets are relative to the data section."""
    tensors = {
        "weight": ([2, 3], [0.5, -1.25, 2.0, 3.5, -0.0, 1e-3]),
        "bias": ([3], [1.0, 2.0, -3.0]),
        "scalar": ([], [42.0]),
    }
    header, data, offset = {}, b"", 0
    for name, (shape, values) in tensors.items():
        raw = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    header["__metadata__"] = {"format": "pt", "epoch": "3"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(OUT, "python_written.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    expected = {"tensors": {n: {"shape": s, "values": v} for n, (s, v) in tensors.items()},
                "metadata": header["__metadata__"]}
    with open(os.path.join(OUT, "safetensors_expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


def read_safetensors(path):
    """A reader that follows the spec strictly (what safetensors.torch.load_file checks)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in meta.values()), "metadata values must be strings"
    end = 0
    tensors = {}
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e_ = e["data_offsets"]
        assert e["dtype"] == "F32" and b == end, name
        count = 1
        for d in e["shape"]:
            count *= d
        assert e_ - b == 4 * count, name
        tensors[name] = torch.frombuffer(bytearray(data[b:e_]), dtype=torch.float32).reshape(e["shape"]) if count else torch.zeros(e["shape"])
        end = e_
    assert end == len(data), "data section has extra or missing bytes"
    return tensors, meta


def main():
    torch.manual_seed(0)
    two_groups = [{"lr": 0.01, "weight_decay": 0.0, "shapes": [[5, 7], [7]]},
                  {"lr": 0.03, "weight_decay": 0.0, "shapes": [[4, 3]]}]
    two_groups_wd = [{"lr": 0.01, "weight_decay": 2.5e-4 * 40, "shapes": [[5, 7], [7]]},
                     {"lr": 0.03, "weight_decay": 5e-4 * 40, "shapes": [[4, 3]]}]
    cases = [
        dense_case("sgd", lambda gs: torch.optim.SGD(gs, lr=0.1), two_groups),
        dense_case("sgd_momentum", lambda gs: torch.optim.SGD(gs, lr=0.1, momentum=0.9), two_groups_wd),
        dense_case("sgd_nesterov", lambda gs: torch.optim.SGD(gs, lr=0.1, momentum=0.9, nesterov=True), two_groups),
        dense_case("adam", lambda gs: torch.optim.Adam(gs, lr=0.1), two_groups),
        dense_case("adam_weight_decay", lambda gs: torch.optim.Adam(gs, lr=0.1, betas=(0.8, 0.99), eps=1e-6), two_groups_wd),
        dense_case("adamw", lambda gs: torch.optim.AdamW(gs, lr=0.1), two_groups_wd),
        dense_case("adagrad", lambda gs: torch.optim.Adagrad(gs, lr=0.1, lr_decay=0.01), two_groups_wd),
        sparse_case("sparse_adam", lambda gs: torch.optim.SparseAdam(gs, lr=0.05)),
        sparse_case("sparse_adagrad", lambda gs: torch.optim.Adagrad(gs, lr=0.05)),
        sparse_case("sparse_sgd", lambda gs: torch.optim.SGD(gs, lr=0.05)),
    ]
    fixture = {"torch_version": torch.__version__, "cases": cases, "clip": clip_case()}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "optim.json"), "w") as f:
        json.dump(fixture, f)
    write_safetensors()


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--read":
        ts, md = read_safetensors(sys.argv[2])
        for k, t in ts.items():
            print(k, list(t.shape), float(t.sum()))
        print("metadata", md)
    else:
        main()
