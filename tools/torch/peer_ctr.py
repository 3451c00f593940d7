#!/usr/bin/env python3
"""PyTorch peer of SharpCtr's first models (LR, FM, DeepFM, DIN) on MovieLens-1M, GenCI protocol.

The models follow FuxiCTR 2.2.1's definitions (one embedding table per field, shared tables for
the history fields, mean-pooled multi-valued fields, FM = LR + product-sum, DeepFM = FM + MLP,
DIN = target attention with a Dice MLP over [q, k, q-k, q*k], no softmax, then an MLP), and its
training loop (Adam, L2 on whole embedding tables, gradient-norm clip 10, early stop on validation
AUC with patience 2, learning rate x0.1 on a plateau, best weights restored for the test).

Everything is read from the raw files and tensorized once, so the timed loops measure only
forward + backward + optimizer step (training) or forward (inference).

Run with Debian's python and OpenBLAS's SkylakeX kernels, e.g.
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 tools/torch/peer_ctr.py --model din --epochs 6
"""
import argparse
import copy
import json
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss, roc_auc_score
from torch import nn

SEQ_LEN = 50        # most recent positives kept in the history
MAX_GENRES = 6      # most genres any MovieLens-1M movie has
PAD, OOV = 0, 1     # reserved vocabulary ids; real values start at 2

# Field order = FuxiCTR's feature_map order; it fixes the MLP input layout.
SCALAR_FIELDS = ["user_id", "gender", "age", "occupation", "item_id", "release_year"]
HISTORY_FIELDS = ["item_seq", "genre_seq"]
SHARED_TABLE = {"item_seq": "item_id", "genre_seq": "genre"}  # FuxiCTR share_embedding


# ----------------------------------------------------------------------------------------------
# Data: raw MovieLens-1M files -> GenCI protocol -> integer tensors

def fail(path, line_no, field, message):
    raise ValueError(f"{path}:{line_no}: field '{field}': {message}")


def read_ratings(path):
    """ratings-chrono.csv (user_id,seq_pos,item_id,rating,...) sorted by (user, seq_pos)."""
    users, positions, items, ratings = [], [], [], []
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        if header[:4] != ["user_id", "seq_pos", "item_id", "rating"]:
            fail(path, 1, "header", f"expected user_id,seq_pos,item_id,rating,... got {header}")
        for line_no, line in enumerate(f, start=2):
            parts = line.split(",", 4)
            if len(parts) < 4:
                fail(path, line_no, "row", "fewer than 4 columns")
            for name, value, out in (("user_id", parts[0], users), ("seq_pos", parts[1], positions),
                                     ("item_id", parts[2], items), ("rating", parts[3], ratings)):
                try:
                    out.append(int(value))
                except ValueError:
                    fail(path, line_no, name, f"not an integer: {value!r}")
    users, positions = np.array(users, np.int64), np.array(positions, np.int64)
    items, ratings = np.array(items, np.int64), np.array(ratings, np.int64)
    order = np.lexsort((positions, users))  # the file is sorted already; do not rely on it
    return users[order], items[order], ratings[order]


def read_movies(path):
    """movies.dat (Latin-1): id::Title (year)::Genre|Genre -> year and genre codes per movie."""
    rows = []
    with open(path, encoding="latin-1") as f:
        for line_no, line in enumerate(f, start=1):
            parts = line.rstrip("\n").split("::")
            if len(parts) != 3:
                fail(path, line_no, "row", "expected MovieID::Title::Genres")
            match = re.search(r"\((\d{4})\)\s*$", parts[1])
            if match is None:
                fail(path, line_no, "Title", f"no '(year)' at the end: {parts[1]!r}")
            rows.append((int(parts[0]), int(match.group(1)), parts[2].split("|")))
    genre_names = sorted({g for _, _, gs in rows for g in gs})
    genre_code = {g: i + 1 for i, g in enumerate(genre_names)}  # raw code 0 = padding
    max_id = max(r[0] for r in rows)
    year = np.zeros(max_id + 1, np.int64)
    genres = np.zeros((max_id + 1, MAX_GENRES), np.int64)
    for movie, y, gs in rows:
        year[movie] = y
        genres[movie, :len(gs)] = [genre_code[g] for g in gs]
    return year, genres


def read_users(path):
    """users.dat: id::Gender::Age::Occupation::Zip -> raw codes indexed by user id."""
    rows = []
    with open(path, encoding="latin-1") as f:
        for line_no, line in enumerate(f, start=1):
            parts = line.rstrip("\n").split("::")
            if len(parts) != 5:
                fail(path, line_no, "row", "expected UserID::Gender::Age::Occupation::Zip")
            if parts[1] not in ("F", "M"):
                fail(path, line_no, "Gender", f"expected F or M, got {parts[1]!r}")
            rows.append((int(parts[0]), 1 if parts[1] == "F" else 2, int(parts[2]), int(parts[3])))
    max_id = max(r[0] for r in rows)
    table = np.zeros((max_id + 1, 3), np.int64)
    for user, gender, age, occupation in rows:
        table[user] = (gender, age, occupation)
    return table


def vocabulary(train_values, size):
    """Lookup raw value -> id, built on training values: 2.. in sorted order, unseen -> OOV."""
    lookup = np.full(size, OOV, np.int64)
    seen = np.unique(train_values)
    lookup[seen] = np.arange(2, 2 + len(seen))
    return lookup, 2 + len(seen)


def load_movielens(data_dir):
    users, items, ratings = read_ratings(os.path.join(data_dir, "ratings-chrono.csv"))
    year_of, genres_of = read_movies(os.path.join(data_dir, "movies.dat"))
    user_table = read_users(os.path.join(data_dir, "users.dat"))

    keep = ratings != 3
    users, items, label = users[keep], items[keep], (ratings[keep] > 3).astype(np.int64)
    n = len(users)
    assert n == 739_012 and label.sum() == 575_281, (n, label.sum())

    # Position inside the user's chronological list and the 8:1:1 split by position.
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    counts = np.diff(np.r_[starts, n])
    row_user = np.repeat(np.arange(len(starts)), counts)
    rank = np.arange(n) - starts[row_user]
    per_row_n = counts[row_user]
    split = np.where(rank < (8 * per_row_n) // 10, 0, np.where(rank < (9 * per_row_n) // 10, 1, 2))
    split_sizes = [int((split == s).sum()) for s in range(3)]
    assert split_sizes == [588_798, 73_595, 76_619], split_sizes

    # History = the user's earlier positives, most recent SEQ_LEN, oldest -> newest, right-padded.
    positives = items[label == 1]
    before = np.cumsum(label) - label            # global count of positives before each row
    user_first_positive = before[starts][row_user]
    length = np.minimum(before - user_first_positive, SEQ_LEN)
    slot = np.arange(SEQ_LEN)
    source = (before - length)[:, None] + slot[None, :]
    filled = slot[None, :] < length[:, None]
    item_seq = np.where(filled, positives[np.minimum(source, len(positives) - 1)], 0)
    genre_seq = genres_of[item_seq, 0] * filled    # first genre of each history item

    raw = {
        "user_id": users, "gender": user_table[users, 0], "age": user_table[users, 1],
        "occupation": user_table[users, 2], "item_id": items, "release_year": year_of[items],
        "genre": genres_of[items], "item_seq": item_seq, "genre_seq": genre_seq,
    }

    # Vocabularies on the training split; a shared table sees the tokens of both its fields.
    train = split == 0
    vocab_sizes, encoded = {}, {}
    for field in SCALAR_FIELDS:
        values = raw[field][train]
        if field == "item_id":
            history = raw["item_seq"][train]
            values = np.r_[values, history[history != 0]]
        lookup, vocab_sizes[field] = vocabulary(values, int(raw[field].max()) + 1)
        encoded[field] = lookup[raw[field]]
        if field == "item_id":
            encoded["item_seq"] = np.where(raw["item_seq"] != 0, lookup[raw["item_seq"]], PAD)
    genre_values = np.r_[raw["genre"][train].ravel(), raw["genre_seq"][train].ravel()]
    genre_lookup, vocab_sizes["genre"] = vocabulary(genre_values[genre_values != 0],
                                                    int(genres_of.max()) + 1)
    for field in ("genre", "genre_seq"):
        encoded[field] = np.where(raw[field] != 0, genre_lookup[raw[field]], PAD)

    def tensors(mask):
        out = {f: torch.from_numpy(np.ascontiguousarray(encoded[f][mask])) for f in SCALAR_FIELDS}
        # Multi-valued fields stay int32 (embedding accepts it) to halve the memory of histories.
        for f in ("genre", "item_seq", "genre_seq"):
            out[f] = torch.from_numpy(np.ascontiguousarray(encoded[f][mask].astype(np.int32)))
        out["label"] = torch.from_numpy(label[mask].astype(np.float32))
        return out

    info = {"rows": n, "positives": int(label.sum()), "users": len(starts),
            "items": int(len(np.unique(items))), "split_rows": split_sizes,
            "positive_rate": [round(float(label[split == s].mean()), 4) for s in range(3)],
            "vocab_sizes": vocab_sizes}
    return [tensors(split == s) for s in range(3)], vocab_sizes, info


# ----------------------------------------------------------------------------------------------
# Models

def embedding_table(size, dim):
    """FuxiCTR's init: N(0, 1e-4) and a zero padding row that receives no gradient."""
    table = nn.Embedding(size, dim, padding_idx=PAD)
    with torch.no_grad():
        nn.init.normal_(table.weight[1:], std=1e-4)
    return table


def mean_over_present(embedded, ids):
    """Mean of the non-padding positions; padding rows are zero, so a plain sum is the masked sum."""
    present = (ids != PAD).sum(dim=1, keepdim=True).to(embedded.dtype)
    return embedded.sum(dim=1) / (present + 1e-12)


class FieldEmbeddings(nn.Module):
    """One table per field (history fields share their target's table), like FeatureEmbeddingDict.

    pool_history=True mean-pools item_seq/genre_seq (DeepFM's MaskedAveragePooling);
    with dim == 1 multi-valued fields are sum-pooled, as FuxiCTR's LR layer does."""

    def __init__(self, vocab_sizes, dim, fields):
        super().__init__()
        self.fields = fields
        self.dim = dim
        self.tables = nn.ModuleDict({f: embedding_table(vocab_sizes[f], dim)
                                     for f in fields if f not in SHARED_TABLE})

    def table(self, field):
        return self.tables[SHARED_TABLE.get(field, field)]

    def lookup(self, batch, pool_history=True):
        out = {}
        for field in self.fields:
            embedded = self.table(field)(batch[field])
            if embedded.dim() == 3 and (field == "genre" or pool_history):
                embedded = embedded.sum(dim=1) if self.dim == 1 else mean_over_present(embedded, batch[field])
            out[field] = embedded
        return out

    def l2(self):
        return sum((w * w).sum() for w in self.tables.parameters())


class LinearPart(nn.Module):
    """FuxiCTR's LogisticRegression block: 1-d embeddings of every field summed, plus a bias."""

    def __init__(self, vocab_sizes, fields):
        super().__init__()
        self.weights = FieldEmbeddings(vocab_sizes, 1, fields)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, batch):
        return torch.stack(list(self.weights.lookup(batch).values()), dim=1).sum(dim=1) + self.bias


def mlp(input_dim, hidden, activation):
    layers, width = [], input_dim
    for units in hidden:
        layers += [nn.Linear(width, units), activation(units)]
        width = units
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def fm_product_sum(field_emb):
    """Sum over field pairs of <e_i, e_j> = 0.5 * ((sum e)^2 - sum e^2), summed over dimensions."""
    square_of_sum = field_emb.sum(dim=1) ** 2
    sum_of_square = (field_emb ** 2).sum(dim=1)
    return 0.5 * (square_of_sum - sum_of_square).sum(dim=1, keepdim=True)


class LR(nn.Module):
    def __init__(self, vocab_sizes, fields, args):
        super().__init__()
        self.linear = LinearPart(vocab_sizes, fields)

    def forward(self, batch):
        return self.linear(batch)

    def embedding_l2(self):
        return self.linear.weights.l2()


class FM(nn.Module):
    def __init__(self, vocab_sizes, fields, args):
        super().__init__()
        self.linear = LinearPart(vocab_sizes, fields)
        self.embeddings = FieldEmbeddings(vocab_sizes, args.embedding_dim, fields)

    def forward(self, batch):
        field_emb = torch.stack(list(self.embeddings.lookup(batch).values()), dim=1)
        return self.linear(batch) + fm_product_sum(field_emb)

    def embedding_l2(self):
        return self.linear.weights.l2() + self.embeddings.l2()


class DeepFM(FM):
    def __init__(self, vocab_sizes, fields, args):
        super().__init__(vocab_sizes, fields, args)
        self.dnn = mlp(len(fields) * args.embedding_dim, args.dnn, lambda units: nn.ReLU())

    def forward(self, batch):
        field_emb = torch.stack(list(self.embeddings.lookup(batch).values()), dim=1)
        return (self.linear(batch) + fm_product_sum(field_emb)
                + self.dnn(field_emb.flatten(start_dim=1)))


class Dice(nn.Module):
    """Dice activation (DIN paper; FuxiCTR: BatchNorm without affine, eps 1e-9, momentum 0.01)."""

    def __init__(self, units):
        super().__init__()
        self.norm = nn.BatchNorm1d(units, affine=False, eps=1e-9, momentum=0.01)
        self.alpha = nn.Parameter(torch.zeros(units))

    def forward(self, x):
        p = torch.sigmoid(self.norm(x))
        return x * (p + (1 - p) * self.alpha)


class DIN(nn.Module):
    """Query = [item_id, mean genre]; keys = [item_seq, genre_seq]; weights unnormalised (no softmax)."""

    def __init__(self, vocab_sizes, fields, args):
        super().__init__()
        self.dim = args.embedding_dim
        self.embeddings = FieldEmbeddings(vocab_sizes, self.dim, fields)
        self.attention = mlp(4 * 2 * self.dim, args.attention, Dice)
        self.dnn = mlp(len(fields) * self.dim, args.dnn, lambda units: nn.ReLU())

    def forward(self, batch):
        emb = self.embeddings.lookup(batch, pool_history=False)
        query = torch.cat([emb["item_id"], emb["genre"]], dim=-1)             # B x 2d
        keys = torch.cat([emb["item_seq"], emb["genre_seq"]], dim=-1)         # B x L x 2d
        q = query.unsqueeze(1).expand_as(keys)
        unit_input = torch.cat([q, keys, q - keys, q * keys], dim=-1)
        weight = self.attention(unit_input.reshape(-1, unit_input.shape[-1])).view(keys.shape[:2])
        weight = weight * (batch["item_seq"] != PAD).to(weight.dtype)
        pooled = (weight.unsqueeze(-1) * keys).sum(dim=1)
        emb["item_seq"], emb["genre_seq"] = pooled.split(self.dim, dim=-1)
        return self.dnn(torch.cat([emb[f] for f in self.embeddings.fields], dim=-1))

    def embedding_l2(self):
        return self.embeddings.l2()


MODELS = {"lr": LR, "fm": FM, "deepfm": DeepFM, "din": DIN}


def init_dense_layers(model):
    """FuxiCTR's default: Xavier-normal weights, zero biases for every Linear."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_normal_(module.weight)
            nn.init.zeros_(module.bias)


# ----------------------------------------------------------------------------------------------
# Training, evaluation, timing

def batches(data, size):
    n = len(data["label"])
    for start in range(0, n, size):
        yield {k: v[start:start + size] for k, v in data.items()}


def predict(model, data, batch_size):
    model.eval()
    out = []
    with torch.no_grad():
        for batch in batches(data, batch_size):
            out.append(torch.sigmoid(model(batch)).view(-1))
    return torch.cat(out).numpy().astype(np.float64)


def metrics(model, data, batch_size):
    p = predict(model, data, batch_size)
    y = data["label"].numpy()
    return {"auc": float(roc_auc_score(y, p)),
            "logloss": float(log_loss(y, np.clip(p, 1e-7, 1 - 1e-7)))}


def train_steps(model, optimizer, data, args, max_steps=None):
    """One pass over already shuffled tensors; returns (samples, wall s, CPU s, mean loss)."""
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    samples, steps, loss_sum = 0, 0, 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    for batch in batches(data, args.batch):
        logit = model(batch).view(-1)
        loss = F.binary_cross_entropy_with_logits(logit, batch["label"])
        if args.emb_reg > 0:
            loss = loss + (args.emb_reg / 2) * model.embedding_l2()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 10.0)
        optimizer.step()
        loss_sum += loss.item()
        samples += len(batch["label"])
        steps += 1
        if max_steps is not None and steps >= max_steps:
            break
    # CPU seconds are reported beside wall seconds because the machine is shared with other jobs.
    return samples, time.perf_counter() - start, time.process_time() - cpu_start, loss_sum / max(steps, 1)


def shuffled(data, generator):
    perm = torch.randperm(len(data["label"]), generator=generator)
    return {k: v[perm] for k, v in data.items()}


def inference_speed(model, data, batch_size):
    model.eval()
    start, cpu_start = time.perf_counter(), time.process_time()
    predict(model, data, batch_size)
    n = len(data["label"])
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu_start)


def request_of_100(test, item_rows):
    """One user's request: the user's fields and history repeated, 100 different candidate items."""
    has_full_history = (test["item_seq"] != PAD).sum(dim=1) == SEQ_LEN
    row = int(torch.nonzero(has_full_history)[0]) if has_full_history.any() else 0
    req = {}
    for field, values in test.items():
        req[field] = values[row:row + 1].expand(100, *values.shape[1:]).contiguous()
    for field in ("item_id", "release_year", "genre"):
        req[field] = item_rows[field].clone()
    return req


def request_latency(model, request, repeats):
    """Wall and CPU (this thread) milliseconds per request; CPU time ignores time spent preempted."""
    torch.set_num_threads(1)
    model.eval()
    wall, cpu = [], []
    with torch.no_grad():
        for i in range(repeats + 50):
            start, cpu_start = time.perf_counter(), time.thread_time()
            torch.sigmoid(model(request))
            if i >= 50:  # warm-up excluded
                wall.append(time.perf_counter() - start)
                cpu.append(time.thread_time() - cpu_start)
    wall, cpu = np.array(wall) * 1000.0, np.array(cpu) * 1000.0
    return {"p50_ms": float(np.percentile(wall, 50)), "p99_ms": float(np.percentile(wall, 99)),
            "cpu_p50_ms": float(np.percentile(cpu, 50)), "cpu_p99_ms": float(np.percentile(cpu, 99)),
            "repeats": repeats}


def distinct_items(test, count):
    """count test rows with pairwise different item ids (their item, year and genre fields)."""
    _, first = np.unique(test["item_id"].numpy(), return_index=True)
    rows = torch.from_numpy(np.sort(first)[:count])
    assert len(rows) == count
    return {f: test[f][rows] for f in ("item_id", "release_year", "genre")}


def emit(record):
    print(json.dumps(record), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--emb-reg", type=float, default=0.0,
                        help="FuxiCTR embedding_regularizer: adds emb_reg/2 * ||W||^2 of every table")
    parser.add_argument("--embedding-dim", type=int, default=16)
    parser.add_argument("--dnn", type=int, nargs="+", default=[256, 256, 256])
    parser.add_argument("--attention", type=int, nargs="+", default=[64, 32])
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--no-history", action="store_true", help="drop item_seq/genre_seq (not DIN)")
    parser.add_argument("--max-train-rows", type=int, default=None)
    parser.add_argument("--bench-only", action="store_true",
                        help="time --bench-steps training steps, inference and latency; no AUC")
    parser.add_argument("--bench-steps", type=int, default=300)
    parser.add_argument("--latency-repeats", type=int, default=1000)
    parser.add_argument("--data", default=os.environ.get("ML1M_DIR", "/work/shared/datasets/ml-1m"))
    args = parser.parse_args()
    if args.no_history and args.model == "din":
        parser.error("DIN needs the history fields")

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)

    load_start = time.perf_counter()
    (train, valid, test), vocab_sizes, info = load_movielens(args.data)
    if args.max_train_rows is not None and args.max_train_rows < len(train["label"]):
        keep = torch.randperm(len(train["label"]), generator=torch.Generator().manual_seed(args.seed))
        train = {k: v[keep[:args.max_train_rows]] for k, v in train.items()}
    info.update(event="data", load_seconds=round(time.perf_counter() - load_start, 2),
                train_rows_used=len(train["label"]))
    emit(info)

    fields = SCALAR_FIELDS + ["genre"] + ([] if args.no_history else HISTORY_FIELDS)
    model = MODELS[args.model](vocab_sizes, fields, args)
    init_dense_layers(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    common = {"model": args.model, "seed": args.seed, "threads": args.threads, "batch": args.batch,
              "emb_reg": args.emb_reg, "history": not args.no_history,
              "parameters": sum(p.numel() for p in model.parameters())}

    result = dict(common, event="result")
    if args.bench_only:
        warm = shuffled(train, generator)
        train_steps(model, optimizer, warm, args, max_steps=20)
        samples, seconds, cpu, _ = train_steps(model, optimizer, shuffled(train, generator), args,
                                               max_steps=args.bench_steps)
        result["train_samples_per_second"] = samples / seconds
        result["train_samples_per_cpu_second"] = samples / cpu
        result["bench_steps"] = args.bench_steps
    else:
        best = {"auc": -np.inf, "epoch": 0, "state": None}
        bad_epochs, sps = 0, []
        for epoch in range(1, args.epochs + 1):
            epoch_data = shuffled(train, generator)       # not timed: data movement, not training
            samples, seconds, cpu, train_loss = train_steps(model, optimizer, epoch_data, args)
            sps.append(samples / seconds)
            valid_m = metrics(model, valid, args.batch)
            test_m = metrics(model, test, args.batch)
            lr_now = optimizer.param_groups[0]["lr"]
            improved = valid_m["auc"] > best["auc"] + 1e-6
            if improved:
                best = {"auc": valid_m["auc"], "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
                bad_epochs = 0
            else:
                bad_epochs += 1
                for group in optimizer.param_groups:       # FuxiCTR's reduce_lr_on_plateau
                    group["lr"] = max(group["lr"] * 0.1, 1e-6)
            emit(dict(common, event="epoch", epoch=epoch, train_loss=train_loss, lr=lr_now,
                      train_seconds=seconds, train_samples_per_second=samples / seconds,
                      train_samples_per_cpu_second=samples / cpu,
                      valid=valid_m, test=test_m))
            if bad_epochs >= args.patience:
                break
        model.load_state_dict(best["state"])
        result.update(best_epoch=best["epoch"], epochs_run=epoch,
                      valid=metrics(model, valid, args.batch), test=metrics(model, test, args.batch),
                      train_samples_per_second=float(np.median(sps)))

    torch.set_num_threads(args.threads)
    result["inference_samples_per_second"], result["inference_samples_per_cpu_second"] = \
        inference_speed(model, test, args.batch)
    request = request_of_100(test, distinct_items(test, 100))
    result["request_100"] = request_latency(model, request, args.latency_repeats)
    result["loadavg"] = os.getloadavg()
    emit(result)


if __name__ == "__main__":
    sys.exit(main())
