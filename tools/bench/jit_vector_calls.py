#!/usr/bin/env python3
"""Lists the vector helpers that the JIT left as calls in SharpCtr's optimized code.

On a CPU without AVX-512, .NET emulates Vector512<float> as two 256-bit halves; its operators are
then ordinary methods, and where the JIT's inlining budget runs out (a kernel that inlines many
helpers, a helper returning a tuple of vectors) they stay calls, each passing 64-byte values
through memory. Dice's backward ran ~3x slower per element that way (docs/BENCHMARKS.md, session 17).
This runs a command with the JIT's disassembly on and prints, per optimized SharpCtr method, the
calls whose signature mentions a vector type. An empty list is the goal for the hot kernels.

Usage: SHARPCTR_DATA=../shared/datasets tools/bench/jit_vector_calls.py -- \
           ./sharpctr bench train configs/movielens-1m/din.yaml --steps 25
Calls into System.Numerics.Tensors (TensorPrimitives' own loops) are listed separately: they are
the library's, not ours.
"""
import collections
import os
import re
import subprocess
import sys
import tempfile


def scan(listing):
    ours, library = collections.Counter(), collections.Counter()
    method, optimized = None, False
    header = re.compile(r"; Assembly listing for method (.*) \((.*)\)")
    for line in listing:
        m = header.match(line.strip())
        if m:
            method = m.group(1).split("(")[0]
            tier = m.group(2)
            optimized = ("Tier1" in tier or "FullOpts" in tier) and "Instrumented" not in tier
            continue
        if not optimized or "SharpCtr" not in (method or "") or " call " not in line:
            continue
        if not re.search(r"Vector(128|256|512)", line):
            continue
        callee = line.split("[", 1)[1].rstrip("]\n") if "[" in line else line.strip()
        target = library if "System.Numerics.Tensors" in callee else ours
        target[(method, callee.split("(")[0])] += 1
    return ours, library


def main():
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "jit.asm")
        env = dict(os.environ, DOTNET_JitDisasm="*", DOTNET_JitStdOutFile=out)
        run = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "(no output)")
        if run.returncode != 0:
            sys.exit(f"command failed with exit code {run.returncode}")
        with open(out, errors="replace") as f:
            ours, library = scan(f)
    for title, hits in (("out-of-line vector calls in SharpCtr's optimized code", ours),
                        ("in System.Numerics.Tensors' loops", library)):
        print(f"{title}: {sum(hits.values())}")
        for (method, callee), n in sorted(hits.items()):
            print(f"  {n} × {method} -> {callee}")


if __name__ == "__main__":
    main()
