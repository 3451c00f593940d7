#!/usr/bin/python3
"""PyTorch oracle fixtures for SharpCtr's nn modules.

For every module: fixed weights and inputs, the forward outputs, and the gradients of
loss = sum_k sum(output_k * proj_k) (proj_k fixed random) w.r.t. every input and weight.
Weights are written under SharpCtr's parameter names and layouts (Linear weights [in, out]),
so a test copies them into a C# module by name and compares outputs and gradients.

Run with Debian's python (torch 1.13):  /usr/bin/python3 tools/torch/make_module_fixtures.py
Output: tests/SharpCtr.Tensors.Tests/Fixtures/modules/<case>.json, each
  {"config": {...}, "tensors": {name: {"shape": [...], "data": [...]}}}
with tensor names "in.<x>", "param.<name>", "out.<y>", "proj.<y>", "grad.in.<x>", "grad.param.<name>".
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)
torch.set_num_threads(1)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "tests", "SharpCtr.Tensors.Tests", "Fixtures", "modules")


def to_list(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def write_case(name, config, inputs, params, outputs):
    """inputs/params: dict name -> leaf tensor (requires_grad); outputs: dict name -> tensor."""
    gen = torch.Generator().manual_seed(1234)
    projs = {k: torch.randn(v.shape, generator=gen) for k, v in outputs.items()}
    loss = sum((outputs[k] * projs[k]).sum() for k in outputs)
    leaves = [t for t in list(inputs.values()) + list(params.values()) if t.requires_grad]
    grads = torch.autograd.grad(loss, leaves, allow_unused=True)
    grad_of = {id(t): g for t, g in zip(leaves, grads)}

    tensors = {}

    def put(key, t):
        tensors[key] = {"shape": list(t.shape), "data": to_list(t)}

    for k, v in inputs.items():
        put("in." + k, v)
        if v.requires_grad:
            g = grad_of[id(v)]
            put("grad.in." + k, g if g is not None else torch.zeros_like(v))
    for k, v in params.items():
        put("param." + k, v)
        g = grad_of[id(v)]
        put("grad.param." + k, g if g is not None else torch.zeros_like(v))
    for k, v in outputs.items():
        put("out." + k, v)
        put("proj." + k, projs[k])
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w") as f:
        json.dump({"config": config, "tensors": tensors}, f, separators=(",", ":"))
    print("%-28s %7d bytes" % (name, os.path.getsize(path)))


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def linear_params(prefix, lin, out):
    """torch Linear weight [out, in] -> SharpCtr [in, out]; returns the leaves used in forward."""
    out[prefix + ".weight"] = leaf(lin.weight.t())
    if lin.bias is not None:
        out[prefix + ".bias"] = leaf(lin.bias)


def apply_linear(params, prefix, x):
    y = x @ params[prefix + ".weight"]
    if prefix + ".bias" in params:
        y = y + params[prefix + ".bias"]
    return y


# ---- Linear, LayerNorm, RMSNorm --------------------------------------------------------------

def case_linear():
    lin = nn.Linear(6, 4)
    x = leaf(torch.randn(3, 2, 6))
    p = {}
    linear_params("", lin, p)
    p = {k.lstrip("."): v for k, v in p.items()}
    y = x @ p["weight"] + p["bias"]
    # cross-check against torch's own module
    assert torch.allclose(y, lin(x), atol=1e-6)
    write_case("linear", {"in": 6, "out": 4, "bias": True}, {"x": x}, p, {"y": y})


def case_layer_norm():
    x = leaf(torch.randn(4, 3, 10) * 2 + 0.5)
    w = leaf(1 + 0.3 * torch.randn(10))
    b = leaf(0.2 * torch.randn(10))
    y = F.layer_norm(x, (10,), w, b, eps=1e-5)
    write_case("layer_norm", {"dim": 10, "eps": 1e-5}, {"x": x}, {"weight": w, "bias": b}, {"y": y})


def t5_rms_norm(x, w, eps=1e-6):
    # T5's layer norm: scale only, no mean subtraction, no bias.
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def case_rms_norm():
    x = leaf(torch.randn(4, 3, 10) * 2 + 0.5)
    w = leaf(1 + 0.3 * torch.randn(10))
    y = t5_rms_norm(x, w)
    write_case("rms_norm", {"dim": 10, "eps": 1e-6}, {"x": x}, {"weight": w}, {"y": y})


# ---- torch.nn.MultiheadAttention ---------------------------------------------------------------

def mha_params(mha, E):
    wq, wk, wv = mha.in_proj_weight.split(E, 0)
    bq, bk, bv = mha.in_proj_bias.split(E, 0)
    return {
        "q.weight": leaf(wq.t()), "q.bias": leaf(bq),
        "k.weight": leaf(wk.t()), "k.bias": leaf(bk),
        "v.weight": leaf(wv.t()), "v.bias": leaf(bv),
        "o.weight": leaf(mha.out_proj.weight.t()), "o.bias": leaf(mha.out_proj.bias),
    }


def load_mha(mha, p, E):
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([p["q.weight"].t(), p["k.weight"].t(), p["v.weight"].t()], 0))
        mha.in_proj_bias.copy_(torch.cat([p["q.bias"], p["k.bias"], p["v.bias"]], 0))
        mha.out_proj.weight.copy_(p["o.weight"].t())
        mha.out_proj.bias.copy_(p["o.bias"])


def mha_forward(p, q_in, kv_in, heads, key_keep=None, causal=False, scale=True, bias=None):
    """Plain multi-head attention with SharpCtr's parameters; same math as nn.MultiheadAttention."""
    B, Lq, _ = q_in.shape
    Lk = kv_in.shape[1]
    q = apply_linear(p, "q", q_in)
    k = apply_linear(p, "k", kv_in)
    v = apply_linear(p, "v", kv_in)
    dk = q.shape[-1] // heads
    q = q.view(B, Lq, heads, dk).transpose(1, 2)
    k = k.view(B, Lk, heads, dk).transpose(1, 2)
    v = v.view(B, Lk, heads, dk).transpose(1, 2)
    s = q @ k.transpose(-1, -2)
    if scale:
        s = s / math.sqrt(dk)
    if bias is not None:
        s = s + bias
    keep = torch.ones(B, 1, Lq, Lk, dtype=torch.bool)
    if key_keep is not None:
        keep = keep & key_keep.bool()[:, None, None, :]
    if causal:
        keep = keep & torch.ones(Lq, Lk, dtype=torch.bool).tril()
    s = s.masked_fill(~keep, torch.finfo(s.dtype).min)
    a = torch.softmax(s, -1)
    ctx = (a @ v).transpose(1, 2).reshape(B, Lq, heads * dk)
    return apply_linear(p, "o", ctx)


def case_mha_self():
    E, H, B, L = 8, 2, 3, 5
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    p = mha_params(mha, E)
    x = leaf(torch.randn(B, L, E))
    keep = torch.ones(B, L)
    keep[1, 3:] = 0
    keep[2, 1:] = 0
    y = mha_forward(p, x, x, H, key_keep=keep)
    ref, _ = mha(x, x, x, key_padding_mask=keep == 0)
    assert torch.allclose(y, ref, atol=1e-5), (y - ref).abs().max()
    write_case("mha_self_padding", {"dim": E, "heads": H, "causal": False},
               {"x": x, "key_keep": keep}, p, {"y": y})


def case_mha_causal():
    E, H, B, L = 8, 2, 2, 6
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    p = mha_params(mha, E)
    x = leaf(torch.randn(B, L, E))
    keep = torch.ones(B, L)
    keep[1, 4:] = 0
    y = mha_forward(p, x, x, H, key_keep=keep, causal=True)
    causal = torch.ones(L, L, dtype=torch.bool).triu(1)
    ref, _ = mha(x, x, x, key_padding_mask=keep == 0, attn_mask=causal)
    assert torch.allclose(y, ref, atol=1e-5), (y - ref).abs().max()
    write_case("mha_self_causal", {"dim": E, "heads": H, "causal": True},
               {"x": x, "key_keep": keep}, p, {"y": y})


def case_mha_cross():
    E, H, B, Lq, Lk = 8, 4, 3, 4, 6
    mha = nn.MultiheadAttention(E, H, batch_first=True)
    p = mha_params(mha, E)
    q = leaf(torch.randn(B, Lq, E))
    kv = leaf(torch.randn(B, Lk, E))
    keep = torch.ones(B, Lk)
    keep[0, 2:] = 0
    keep[2, 5:] = 0
    y = mha_forward(p, q, kv, H, key_keep=keep)
    ref, _ = mha(q, kv, kv, key_padding_mask=keep == 0)
    assert torch.allclose(y, ref, atol=1e-5), (y - ref).abs().max()
    write_case("mha_cross", {"dim": E, "heads": H, "causal": False},
               {"query": q, "memory": kv, "key_keep": keep}, p, {"y": y})


# ---- torch.nn.TransformerEncoderLayer (post-norm, relu) ----------------------------------------

def case_transformer_encoder_layer():
    E, H, F_, B, L = 8, 2, 12, 3, 5
    layer = nn.TransformerEncoderLayer(E, H, F_, dropout=0.0, activation="relu", batch_first=True)
    layer.eval()  # dropout 0 anyway; eval keeps torch on the plain (non-fast-path) math only when grads flow
    p = {}
    for k, v in mha_params(layer.self_attn, E).items():
        p["attn." + k] = v
    linear_params("ff1", layer.linear1, p)
    linear_params("ff2", layer.linear2, p)
    p["norm1.weight"] = leaf(layer.norm1.weight + 0.1 * torch.randn(E))
    p["norm1.bias"] = leaf(0.1 * torch.randn(E))
    p["norm2.weight"] = leaf(layer.norm2.weight + 0.1 * torch.randn(E))
    p["norm2.bias"] = leaf(0.1 * torch.randn(E))
    x = leaf(torch.randn(B, L, E))
    keep = torch.ones(B, L)
    keep[0, 3:] = 0
    attn_p = {k[5:]: v for k, v in p.items() if k.startswith("attn.")}
    h = F.layer_norm(x + mha_forward(attn_p, x, x, H, key_keep=keep), (E,), p["norm1.weight"], p["norm1.bias"])
    ff = apply_linear(p, "ff2", torch.relu(apply_linear(p, "ff1", h)))
    y = F.layer_norm(h + ff, (E,), p["norm2.weight"], p["norm2.bias"])
    with torch.no_grad():
        load_mha(layer.self_attn, attn_p, E)
        layer.norm1.weight.copy_(p["norm1.weight"]); layer.norm1.bias.copy_(p["norm1.bias"])
        layer.norm2.weight.copy_(p["norm2.weight"]); layer.norm2.bias.copy_(p["norm2.bias"])
        ref = layer(x.detach(), src_key_padding_mask=keep == 0)
    # torch's fast path zeroes padded query rows; compare only the valid rows
    valid = keep.bool()
    assert torch.allclose(y[valid], ref[valid], atol=1e-5), (y - ref)[valid].abs().max()
    write_case("transformer_encoder_layer", {"dim": E, "heads": H, "ff": F_},
               {"x": x, "key_keep": keep}, p, {"y": y})


def case_transformer_decoder_layer():
    E, H, F_, B, Lt, Ls = 8, 2, 12, 3, 4, 5
    layer = nn.TransformerDecoderLayer(E, H, F_, dropout=0.0, activation="relu", batch_first=True)
    p = {}
    for k, v in mha_params(layer.self_attn, E).items():
        p["self_attn." + k] = v
    for k, v in mha_params(layer.multihead_attn, E).items():
        p["cross_attn." + k] = v
    linear_params("ff1", layer.linear1, p)
    linear_params("ff2", layer.linear2, p)
    for i in (1, 2, 3):
        p["norm%d.weight" % i] = leaf(1 + 0.1 * torch.randn(E))
        p["norm%d.bias" % i] = leaf(0.1 * torch.randn(E))
    x = leaf(torch.randn(B, Lt, E))
    mem = leaf(torch.randn(B, Ls, E))
    mem_keep = torch.ones(B, Ls)
    mem_keep[1, 2:] = 0

    def ln(t, i):
        return F.layer_norm(t, (E,), p["norm%d.weight" % i], p["norm%d.bias" % i])

    h = ln(x + mha_forward(sub(p, "self_attn"), x, x, H, causal=True), 1)
    h = ln(h + mha_forward(sub(p, "cross_attn"), h, mem, H, key_keep=mem_keep), 2)
    y = ln(h + apply_linear(p, "ff2", torch.relu(apply_linear(p, "ff1", h))), 3)
    with torch.no_grad():
        load_mha(layer.self_attn, sub(p, "self_attn"), E)
        load_mha(layer.multihead_attn, sub(p, "cross_attn"), E)
        for i, norm in ((1, layer.norm1), (2, layer.norm2), (3, layer.norm3)):
            norm.weight.copy_(p["norm%d.weight" % i]); norm.bias.copy_(p["norm%d.bias" % i])
        ref = layer(x.detach(), mem.detach(), tgt_mask=torch.ones(Lt, Lt, dtype=torch.bool).triu(1),
                    memory_key_padding_mask=mem_keep == 0)
    assert torch.allclose(y, ref, atol=1e-5), (y - ref).abs().max()
    write_case("transformer_decoder_layer", {"dim": E, "heads": H, "ff": F_},
               {"x": x, "memory": mem, "memory_keep": mem_keep}, p, {"y": y})


# ---- MLPs (torch.nn.Sequential) ------------------------------------------------------------------

def case_mlp_batch_norm():
    """Linear -> BatchNorm1d -> ReLU -> Linear -> BatchNorm1d -> ReLU -> Linear(1), training mode."""
    I, H1, H2, N = 6, 5, 4, 10
    l1, bn1, l2, bn2, out = nn.Linear(I, H1), nn.BatchNorm1d(H1), nn.Linear(H1, H2), nn.BatchNorm1d(H2), nn.Linear(H2, 1)
    p = {}
    linear_params("layers.0", l1, p)
    p["norms.0.weight"] = leaf(1 + 0.2 * torch.randn(H1)); p["norms.0.bias"] = leaf(0.2 * torch.randn(H1))
    linear_params("layers.1", l2, p)
    p["norms.1.weight"] = leaf(1 + 0.2 * torch.randn(H2)); p["norms.1.bias"] = leaf(0.2 * torch.randn(H2))
    linear_params("output", out, p)
    x = leaf(torch.randn(N, I))
    h = torch.relu(F.batch_norm(apply_linear(p, "layers.0", x), bn1.running_mean, bn1.running_var,
                                p["norms.0.weight"], p["norms.0.bias"], training=True))
    h = torch.relu(F.batch_norm(apply_linear(p, "layers.1", h), bn2.running_mean, bn2.running_var,
                                p["norms.1.weight"], p["norms.1.bias"], training=True))
    y = apply_linear(p, "output", h)
    write_case("mlp_batch_norm", {"in": I, "hidden": [H1, H2], "out": 1,
                                  "running_mean_0": to_list(bn1.running_mean), "running_var_0": to_list(bn1.running_var)},
               {"x": x}, p, {"y": y})


def case_mlp_layer_norm_prelu():
    """Linear -> LayerNorm -> PReLU(per feature) -> Linear -> LayerNorm -> PReLU; no output layer."""
    I, H1, H2, N = 6, 5, 4, 7
    l1, l2 = nn.Linear(I, H1), nn.Linear(H1, H2)
    p = {}
    linear_params("layers.0", l1, p)
    p["norms.0.weight"] = leaf(1 + 0.2 * torch.randn(H1)); p["norms.0.bias"] = leaf(0.2 * torch.randn(H1))
    p["acts.0.alpha"] = leaf(0.25 + 0.1 * torch.randn(H1))
    linear_params("layers.1", l2, p)
    p["norms.1.weight"] = leaf(1 + 0.2 * torch.randn(H2)); p["norms.1.bias"] = leaf(0.2 * torch.randn(H2))
    p["acts.1.alpha"] = leaf(0.25 + 0.1 * torch.randn(H2))
    x = leaf(torch.randn(N, I))
    h = F.prelu(F.layer_norm(apply_linear(p, "layers.0", x), (H1,), p["norms.0.weight"], p["norms.0.bias"]), p["acts.0.alpha"])
    y = F.prelu(F.layer_norm(apply_linear(p, "layers.1", h), (H2,), p["norms.1.weight"], p["norms.1.bias"]), p["acts.1.alpha"])
    write_case("mlp_layer_norm_prelu", {"in": I, "hidden": [H1, H2]}, {"x": x}, p, {"y": y})


# ---- T5 encoder / decoder (HF T5 math, written out) --------------------------------------------

def t5_bucket(rel, bidirectional, num_buckets, max_distance):
    """Bucket of a relative position (key - query), as in the T5 paper / HF implementation."""
    buckets = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (rel > 0).long() * num_buckets
        rel = rel.abs()
    else:
        rel = -torch.clamp(rel, max=0)
    exact = num_buckets // 2
    small = rel < exact
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact)
                     * (num_buckets - exact)).long()
    large = torch.clamp(large, max=num_buckets - 1)
    return buckets + torch.where(small, rel, large)


def t5_position_bias(table, Lq, Lk, bidirectional, num_buckets, max_distance):
    rel = torch.arange(Lk)[None, :] - torch.arange(Lq)[:, None]
    b = t5_bucket(rel, bidirectional, num_buckets, max_distance)
    return table[b].permute(2, 0, 1)[None]  # [1, H, Lq, Lk]


def t5_attn_params(prefix, D, H, dkv, p):
    inner = H * dkv
    p[prefix + ".q.weight"] = leaf(torch.randn(D, inner) * D ** -0.5)
    p[prefix + ".k.weight"] = leaf(torch.randn(D, inner) * D ** -0.5)
    p[prefix + ".v.weight"] = leaf(torch.randn(D, inner) * D ** -0.5)
    p[prefix + ".o.weight"] = leaf(torch.randn(inner, D) * inner ** -0.5)


def sub(p, prefix):
    n = len(prefix) + 1
    return {k[n:]: v for k, v in p.items() if k.startswith(prefix + ".")}


T5 = dict(dim=8, heads=2, head_dim=6, ff=10, buckets=8, max_distance=16, layers=2, eps=1e-6)


def t5_norm_param(name, D, p):
    p[name + ".weight"] = leaf(1 + 0.2 * torch.randn(D))


def t5_ff_params(prefix, D, Fd, p):
    p[prefix + ".wi.weight"] = leaf(torch.randn(D, Fd) * D ** -0.5)
    p[prefix + ".wo.weight"] = leaf(torch.randn(Fd, D) * Fd ** -0.5)


def t5_ff(p, prefix, x):
    return torch.relu(x @ p[prefix + ".wi.weight"]) @ p[prefix + ".wo.weight"]


def case_t5_encoder():
    c = T5
    D, H, dkv, Fd, NB, MD = c["dim"], c["heads"], c["head_dim"], c["ff"], c["buckets"], c["max_distance"]
    B, L = 3, 7
    p = {"rel_bias.weight": leaf(torch.randn(NB, H))}
    for i in range(c["layers"]):
        t5_norm_param("layers.%d.attn_norm" % i, D, p)
        t5_attn_params("layers.%d.attn" % i, D, H, dkv, p)
        t5_norm_param("layers.%d.ff_norm" % i, D, p)
        t5_ff_params("layers.%d.ff" % i, D, Fd, p)
    t5_norm_param("final_norm", D, p)
    x = leaf(torch.randn(B, L, D))
    keep = torch.ones(B, L)
    keep[1, 5:] = 0
    keep[2, 2:] = 0
    # The bias is computed once (first layer owns the table in HF T5) and shared by all layers.
    bias = t5_position_bias(p["rel_bias.weight"], L, L, True, NB, MD)
    h = x
    for i in range(c["layers"]):
        pre = "layers.%d." % i
        n = t5_rms_norm(h, p[pre + "attn_norm.weight"])
        h = h + mha_forward(sub(p, pre + "attn"), n, n, H, key_keep=keep, scale=False, bias=bias)
        n = t5_rms_norm(h, p[pre + "ff_norm.weight"])
        h = h + t5_ff(p, pre + "ff", n)
    y = t5_rms_norm(h, p["final_norm.weight"])
    write_case("t5_encoder", dict(c), {"x": x, "key_keep": keep}, p, {"y": y})


def case_t5_decoder():
    c = T5
    D, H, dkv, Fd, NB, MD = c["dim"], c["heads"], c["head_dim"], c["ff"], c["buckets"], c["max_distance"]
    B, Lt, Ls = 3, 6, 7
    p = {"rel_bias.weight": leaf(torch.randn(NB, H))}
    for i in range(c["layers"]):
        pre = "layers.%d." % i
        t5_norm_param(pre + "self_attn_norm", D, p)
        t5_attn_params(pre + "self_attn", D, H, dkv, p)
        t5_norm_param(pre + "cross_attn_norm", D, p)
        t5_attn_params(pre + "cross_attn", D, H, dkv, p)
        t5_norm_param(pre + "ff_norm", D, p)
        t5_ff_params(pre + "ff", D, Fd, p)
    t5_norm_param("final_norm", D, p)
    x = leaf(torch.randn(B, Lt, D))
    mem = leaf(torch.randn(B, Ls, D))
    mem_keep = torch.ones(B, Ls)
    mem_keep[0, 4:] = 0
    mem_keep[2, 6:] = 0
    # Decoder self-attention: unidirectional buckets plus the causal mask; cross-attention: no bias.
    bias = t5_position_bias(p["rel_bias.weight"], Lt, Lt, False, NB, MD)
    h = x
    for i in range(c["layers"]):
        pre = "layers.%d." % i
        n = t5_rms_norm(h, p[pre + "self_attn_norm.weight"])
        h = h + mha_forward(sub(p, pre + "self_attn"), n, n, H, causal=True, scale=False, bias=bias)
        n = t5_rms_norm(h, p[pre + "cross_attn_norm.weight"])
        h = h + mha_forward(sub(p, pre + "cross_attn"), n, mem, H, key_keep=mem_keep, scale=False)
        n = t5_rms_norm(h, p[pre + "ff_norm.weight"])
        h = h + t5_ff(p, pre + "ff", n)
    y = t5_rms_norm(h, p["final_norm.weight"])
    write_case("t5_decoder", dict(c), {"x": x, "memory": mem, "memory_keep": mem_keep}, p, {"y": y})


def case_t5_buckets():
    """Bucket ids alone, over a wide range of distances (exact and logarithmic parts)."""
    rel = torch.arange(-150, 151)
    out = {}
    for bid in (True, False):
        for nb, md in ((32, 128), (8, 16)):
            out["%s_%d_%d" % ("bi" if bid else "uni", nb, md)] = t5_bucket(rel, bid, nb, md).tolist()
    path = os.path.join(OUT_DIR, "t5_buckets.json")
    with open(path, "w") as f:
        json.dump({"relative": rel.tolist(), "buckets": out}, f, separators=(",", ":"))
    print("%-28s %7d bytes" % ("t5_buckets", os.path.getsize(path)))


# ---- GRU and AUGRU -------------------------------------------------------------------------------

def gru_params(gru):
    return {
        "w_ih": leaf(gru.weight_ih_l0.t()), "w_hh": leaf(gru.weight_hh_l0.t()),
        "b_ih": leaf(gru.bias_ih_l0), "b_hh": leaf(gru.bias_hh_l0),
    }


def case_gru():
    I, Hd, B, L = 5, 4, 3, 6
    gru = nn.GRU(I, Hd, batch_first=True)
    p = gru_params(gru)
    x = leaf(torch.randn(B, L, I))
    lengths = [6, 3, 1]
    # plain-torch recurrence with SharpCtr's [in, 3H] layout (gate order r, z, n as in torch)
    h = torch.zeros(B, Hd)
    outs = []
    for t in range(L):
        gi = x[:, t] @ p["w_ih"] + p["b_ih"]
        gh = h @ p["w_hh"] + p["b_hh"]
        r = torch.sigmoid(gi[:, :Hd] + gh[:, :Hd])
        z = torch.sigmoid(gi[:, Hd:2 * Hd] + gh[:, Hd:2 * Hd])
        n = torch.tanh(gi[:, 2 * Hd:] + r * gh[:, 2 * Hd:])
        hn = (1 - z) * n + z * h
        m = torch.tensor([[1.0] if t < ln else [0.0] for ln in lengths])
        h = m * hn + (1 - m) * h
        outs.append(m * hn)
    y = torch.stack(outs, 1)
    packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    ref_packed, ref_h = gru(packed)
    ref, _ = nn.utils.rnn.pad_packed_sequence(ref_packed, batch_first=True, total_length=L)
    assert torch.allclose(y, ref, atol=1e-6), (y - ref).abs().max()
    assert torch.allclose(h, ref_h[0], atol=1e-6)
    write_case("gru", {"in": I, "hidden": Hd, "lengths": lengths}, {"x": x}, p, {"y": y, "h": h})


def case_augru():
    """DIEN's AUGRU: the update gate u (weight of the candidate state) is scaled by the attention
    score a_t: h' = (1 - a_t u) h + a_t u n. Gate order in the weights: r, u, n."""
    I, Hd, B, L = 5, 4, 3, 6
    gru = nn.GRU(I, Hd, batch_first=True)
    p = gru_params(gru)
    x = leaf(torch.randn(B, L, I))
    att = leaf(torch.rand(B, L))
    lengths = [6, 4, 2]
    h = torch.zeros(B, Hd)
    outs = []
    for t in range(L):
        gi = x[:, t] @ p["w_ih"] + p["b_ih"]
        gh = h @ p["w_hh"] + p["b_hh"]
        r = torch.sigmoid(gi[:, :Hd] + gh[:, :Hd])
        u = torch.sigmoid(gi[:, Hd:2 * Hd] + gh[:, Hd:2 * Hd])
        n = torch.tanh(gi[:, 2 * Hd:] + r * gh[:, 2 * Hd:])
        u = att[:, t:t + 1] * u
        hn = (1 - u) * h + u * n
        m = torch.tensor([[1.0] if t < ln else [0.0] for ln in lengths])
        h = m * hn + (1 - m) * h
        outs.append(m * hn)
    y = torch.stack(outs, 1)
    write_case("augru", {"in": I, "hidden": Hd, "lengths": lengths}, {"x": x, "att": att}, p, {"y": y, "h": h})


# ---- Dice ----------------------------------------------------------------------------------------

def case_dice():
    """DIN's Dice, training mode: p = sigmoid((x - mean)/sqrt(var + eps)) with batch statistics
    (biased variance, per feature), y = p x + (1 - p) alpha x."""
    N, D, eps = 16, 5, 1e-8
    x = leaf(torch.randn(N, D) * 1.5 + 0.3)
    alpha = leaf(0.25 * torch.randn(D))
    mean = x.mean(0, keepdim=True)
    var = x.var(0, unbiased=False, keepdim=True)
    pr = torch.sigmoid((x - mean) / torch.sqrt(var + eps))
    y = pr * x + (1 - pr) * alpha * x
    bn = nn.BatchNorm1d(D, eps=eps, affine=False, momentum=0.1)
    ref_p = torch.sigmoid(bn(x.detach()))
    assert torch.allclose(pr, ref_p, atol=1e-5)
    write_case("dice", {"dim": D, "eps": eps, "momentum": 0.1,
                        "running_mean": to_list(bn.running_mean), "running_var": to_list(bn.running_var)},
               {"x": x}, {"alpha": alpha}, {"y": y})


def case_prelu():
    D = 5
    x = leaf(torch.randn(4, D))
    alpha = leaf(0.25 + 0.1 * torch.randn(D))
    y = F.prelu(x, alpha)
    write_case("prelu", {"dim": D}, {"x": x}, {"alpha": alpha}, {"y": y})


def main():
    cases = [case_linear, case_layer_norm, case_rms_norm, case_mha_self, case_mha_causal, case_mha_cross,
             case_transformer_encoder_layer, case_t5_encoder, case_t5_decoder, case_gru, case_augru,
             case_dice, case_prelu, case_transformer_decoder_layer, case_mlp_batch_norm, case_mlp_layer_norm_prelu]
    for i, case in enumerate(cases):
        torch.manual_seed(1000 + i)  # each case its own seed: adding a case does not change the others
        case()
    case_t5_buckets()


if __name__ == "__main__":
    main()
