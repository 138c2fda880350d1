"""HSFL baseline: block coordinate descent on the relaxed problem, then rounding.

The paper's kind of method: batch sizes and bandwidth are continuous, the blocks (learning
modes | batch sizes | cuts | bandwidth) are improved one at a time with the others fixed until
no block improves the relaxed objective (a block-wise stationary point), and the batch sizes and
RB counts are then rounded onto the grid. Several starts (random initial modes); the best rounded
answer is returned, with the relaxed objective of the same run.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

from _paths import load

ev = load("hsfl", "evaluate")
gen = load("hsfl", "gen")


def relaxed(inst: dict, dec) -> float:
    """Rounds (continuous bound) x round time, in ms; inf when infeasible."""
    r = ev.rounds_needed(inst, dec)
    if r is None:
        return math.inf
    return r * ev.round_time(inst, dec) * 1000


def min_blocks(f, target: float, hi: float) -> float | None:
    """Smallest n in (0, hi] with f(n) <= target (f decreasing in n), by bisection."""
    if f(hi) > target:
        return None
    lo = 1e-3
    if f(lo) <= target:
        return lo
    for _ in range(30):
        mid = (lo + hi) / 2
        if f(mid) <= target:
            hi = mid
        else:
            lo = mid
    return hi


def _link(inst: dict, dev: dict):
    """Rate function of a device (bit/s on n RBs) with its constants bound once."""
    gain = gen.common.channel_gain(dev["distance_m"], dev["shadowing_db"])
    power = gen.common.dbm_to_watt(inst["power_dbm"])
    noise = gen.common.dbm_to_watt(gen.common.N0_DBM_PER_HZ) * inst["block_hz"]
    w = inst["block_hz"]
    return lambda n: n * w * math.log2(1 + power * gain / (noise * n))


def _split_time(inst: dict, dec, k: int, sl: bool):
    """(seconds independent of the RBs, bits over the link) of device k's round or SL turn."""
    dev = inst["devices"][k]
    if not sl:
        comp = gen.fl_time(inst, dev, dec.batch[k], 1)
        bits = 2 * inst["bits"] * gen.common.load_profile(inst["profile"]).total_params
        return comp - bits / gen.rate(inst, dev, 1), bits
    prof = gen.common.load_profile(inst["profile"])
    c, b = dec.cut[k], dec.batch[k]
    bits = inst["local_steps"] * 2 * inst["bits"] * b * prof.smashed_floats(c) + 2 * inst[
        "bits"
    ] * prof.device_params(c)
    return gen.sl_time(inst, dev, b, c, 1) - bits / gen.rate(inst, dev, 1), bits


def allocate(inst: dict, dec):
    """Bandwidth block: continuous RBs minimising the round time (bisection on the time)."""
    N = inst["blocks"]
    devs = inst["devices"]
    fl = [k for k, sl in enumerate(dec.sl) if not sl]
    sl = [k for k, s in enumerate(dec.sl) if s]
    rates = [_link(inst, d) for d in devs]
    flc = {k: _split_time(inst, dec, k, False) for k in fl}
    slc = {k: _split_time(inst, dec, k, True) for k in sl}

    def fl_f(k):
        a, bits = flc[k]
        r = rates[k]
        return lambda n: a + bits / r(n)

    def chain(n):
        return sum(a + bits / rates[k](n) for k, (a, bits) in slc.items())

    funcs = [fl_f(k) for k in fl] + ([chain] if sl else [])

    def need(t):
        parts = [min_blocks(f, t, N) for f in funcs]
        return None if any(p is None for p in parts) else parts

    lo, hi = 0.0, 1.0
    while need(hi) is None or sum(need(hi)) > N:
        hi *= 2
        if hi > 1e7:
            return dec
    for _ in range(30):
        mid = (lo + hi) / 2
        p = need(mid)
        if p is not None and sum(p) <= N:
            hi = mid
        else:
            lo = mid
    parts = need(hi)
    share = (N - sum(parts)) / len(parts)  # hand the rest out evenly
    blocks = [0.0] * len(devs)
    for k, p in zip(fl, parts):
        blocks[k] = p + share
    return replace(dec, blocks=blocks, sl_blocks=parts[-1] + share if sl else 0.0)


def batch_cap(inst: dict, k: int, sl: bool) -> float:
    B = inst["batches"]
    if sl:
        return B[-1]
    fits = [b for b in B if gen.fl_memory_mib(inst, b) <= inst["devices"][k]["memory_mib"]]
    return max(fits) if fits else B[0]


def batch_block(inst: dict, dec):
    """Each device's batch size by golden-section search on the relaxed objective."""
    B = inst["batches"]
    batch = list(dec.batch)
    g = (math.sqrt(5) - 1) / 2
    for k in range(len(batch)):
        lo, hi = B[0], batch_cap(inst, k, dec.sl[k])

        def f(b, k=k):
            trial = list(batch)
            trial[k] = b
            return relaxed(inst, replace(dec, batch=trial))

        a, c = hi - g * (hi - lo), lo + g * (hi - lo)
        for _ in range(30):
            if f(a) < f(c):
                hi = c
            else:
                lo = a
            a, c = hi - g * (hi - lo), lo + g * (hi - lo)
        best = min([lo, hi, batch[k]], key=f)
        batch[k] = best
    return replace(dec, batch=batch)


def cut_block(inst: dict, dec):
    cut = list(dec.cut)
    for k, sl in enumerate(dec.sl):
        if sl:
            cut[k] = min(
                inst["cuts"], key=lambda c, k=k: relaxed(inst, replace(dec, cut=cut[:k] + [c] + cut[k + 1 :]))
            )
    return replace(dec, cut=cut)


def mode_block(inst: dict, dec):
    """Flip one device's mode at a time (re-allocating bandwidth) while that helps."""
    best, best_j = dec, relaxed(inst, dec)
    for k in range(len(dec.sl)):
        sl = list(best.sl)
        sl[k] = not sl[k]
        for b in {inst["batches"][0], min(best.batch[k], batch_cap(inst, k, sl[k]))}:
            batch = list(best.batch)
            batch[k] = b  # the flipped device restarts from its current or the smallest batch
            trial = allocate(inst, replace(best, sl=sl, batch=batch))
            j = relaxed(inst, trial)
            if j < best_j:
                best, best_j = trial, j
    return best


def bcd(inst: dict, start, rounds: int = 20):
    dec = allocate(inst, start)
    value = relaxed(inst, dec)
    for _ in range(rounds):
        for block in (mode_block, batch_block, cut_block, allocate):
            dec = block(inst, dec)
        new = relaxed(inst, dec)
        if new >= value * (1 - 1e-6):
            value = min(value, new)
            break
        value = new
    return dec, value


def round_to_grid(inst: dict, dec):
    """Batch sizes to the nearest allowed size (in log scale, within memory), RBs down to whole
    blocks (at least one each), then each spare RB to whoever is slowest."""
    B = inst["batches"]
    batch = []
    for k, b in enumerate(dec.batch):
        ok = [x for x in B if x <= batch_cap(inst, k, dec.sl[k])]
        batch.append(min(ok, key=lambda x: abs(math.log(x) - math.log(b))))
    N = inst["blocks"]
    blocks = [max(1, math.floor(n)) if not sl else 0 for n, sl in zip(dec.blocks, dec.sl)]
    nsl = max(1, math.floor(dec.sl_blocks)) if any(dec.sl) else 0
    while sum(blocks) + nsl > N:  # too many after the minimum of one: take from the largest
        k = max(range(len(blocks)), key=lambda i: blocks[i])
        if nsl > blocks[k] and nsl > 1:
            nsl -= 1
        elif blocks[k] > 1:
            blocks[k] -= 1
        else:
            break
    out = replace(dec, batch=batch, blocks=blocks, sl_blocks=nsl)
    devs = inst["devices"]
    while sum(out.blocks) + out.sl_blocks < N:
        fl = {
            k: gen.fl_time(inst, devs[k], out.batch[k], out.blocks[k])
            for k in range(len(devs))
            if not out.sl[k]
        }
        chain = (
            sum(
                gen.sl_time(inst, devs[k], out.batch[k], out.cut[k], out.sl_blocks)
                for k in range(len(devs))
                if out.sl[k]
            )
            if any(out.sl)
            else -1
        )
        slow = max(fl, key=fl.get) if fl else None
        if slow is None or chain >= fl[slow]:
            out = replace(out, sl_blocks=out.sl_blocks + 1)
        else:
            blocks = list(out.blocks)
            blocks[slow] += 1
            out = replace(out, blocks=blocks)
    return out


def to_solution(inst: dict, dec) -> dict:
    B, cuts = inst["batches"], inst["cuts"]
    return dict(
        sl=list(dec.sl),
        b=[B.index(b) + 1 for b in dec.batch],
        n=[int(n) if not sl else 0 for n, sl in zip(dec.blocks, dec.sl)],
        s=[cuts.index(c) + 1 if sl else 1 for c, sl in zip(dec.cut, dec.sl)],
        nsl=int(dec.sl_blocks) if any(dec.sl) else 0,
    )


def solve(inst: dict, starts: int = 5, seed: int = 0) -> dict:
    """Best rounded answer over ``starts`` runs (start 0: every device FL)."""
    rng = random.Random(seed)
    K = len(inst["devices"])
    runs = []
    for r in range(starts):
        sl = [False] * K if r == 0 else [rng.random() < 0.5 for _ in range(K)]
        batch = [batch_cap(inst, k, sl[k]) for k in range(K)]
        start = ev.Decision(sl=sl, batch=batch, blocks=[1.0] * K, cut=[inst["cuts"][0]] * K, sl_blocks=1.0)
        dec, value = bcd(inst, start)
        rounded = round_to_grid(inst, dec)
        runs.append((ev.score(inst, rounded), value, rounded))
    feasible = [r for r in runs if r[0].feasible]
    best = min(feasible, key=lambda r: r[0].delay_ms)
    values = sorted(r[0].delay_ms for r in feasible)
    return dict(
        solution=to_solution(inst, best[2]),
        score=best[0],
        relaxed_ms=best[1],
        median_ms=values[len(values) // 2],
    )
