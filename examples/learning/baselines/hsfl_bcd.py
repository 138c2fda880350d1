"""HSFL baseline: block coordinate descent on the relaxed problem, then rounding.

The paper's kind of method: batch sizes and bandwidth are continuous, the blocks (learning
modes | batch sizes | cuts | bandwidth) are improved one at a time with the others fixed, each
kept when it lowers the relaxed objective, and cycled until a whole pass improves none (a
block-wise stationary point); the batch sizes and RB counts are then rounded onto the grid and
the rounding repaired. A device switched to SL mode takes its best cut at once. Starts: every
device FL; every device SL at each candidate cut and at each device's own best cut; random
modes. The best rounded answer is returned, with the relaxed objective of the same run.
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
    for _ in range(22):  # to about 1e-6 of the RBs: finer than any rounding needs
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
    for _ in range(24):
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


def best_cut(inst: dict, dec, k: int, blocks: float) -> int:
    """The candidate cut with device k's shortest SL turn on ``blocks`` RBs of the chain.

    A cut changes only its own device's turn (the chain time is a sum of turns, the rounds do
    not depend on cuts), so for fixed batch sizes and RBs this is the exact cut block."""
    dev, b = inst["devices"][k], dec.batch[k]
    return min(inst["cuts"], key=lambda c: gen.sl_time(inst, dev, b, c, blocks))


def chain_blocks(inst: dict, dec) -> float:
    """The SL chain's RBs, or an even share when no device is in SL mode yet."""
    if any(dec.sl) and dec.sl_blocks > 0:
        return dec.sl_blocks
    return inst["blocks"] / (sum(not s for s in dec.sl) + 1)


def cut_block(inst: dict, dec):
    """Each SL device's best cut at the chain's RBs, then the bandwidth re-allocated."""
    nsl = chain_blocks(inst, dec)
    cut = [best_cut(inst, dec, k, nsl) if sl else c for k, (sl, c) in enumerate(zip(dec.sl, dec.cut))]
    return allocate(inst, replace(dec, cut=cut))


def mode_block(inst: dict, dec):
    """Flip one device's mode at a time while that helps; a device switched to SL takes its best
    cut (not the cut it had), and the bandwidth is re-allocated for every trial."""
    best, best_j = dec, relaxed(inst, dec)
    for k in range(len(dec.sl)):
        sl = list(best.sl)
        sl[k] = not sl[k]
        for b in {inst["batches"][0], min(best.batch[k], batch_cap(inst, k, sl[k]))}:
            batch = list(best.batch)
            batch[k] = b  # the flipped device restarts from its current or the smallest batch
            trial = replace(best, sl=sl, batch=batch)
            if sl[k]:
                cut = list(best.cut)
                cut[k] = best_cut(inst, trial, k, chain_blocks(inst, best))
                trial = replace(trial, cut=cut)
            trial = allocate(inst, trial)
            j = relaxed(inst, trial)
            if j < best_j:
                best, best_j = trial, j
    return best


BLOCKS = (mode_block, batch_block, cut_block, allocate)


def bcd(inst: dict, start, passes: int = 50):
    """Block coordinate descent: each block's result is kept when it lowers the relaxed objective;
    the blocks are cycled until a whole pass improves none of them (a block-wise stationary point)."""
    dec = allocate(inst, start)
    value = relaxed(inst, dec)
    for _ in range(passes):
        improved = False
        for block in BLOCKS:
            trial = block(inst, dec)
            new = relaxed(inst, trial)
            if new < value * (1 - 1e-7):
                dec, value, improved = trial, new, True
        if not improved:
            break
    return dec, value


def grid_blocks(inst: dict, dec):
    """Whole RBs for fixed modes, batch sizes and cuts: one to each FL device and to the SL chain,
    then each spare RB to whoever is slowest (optimal for the round time, a max of times that
    fall with the RBs)."""
    devs, N = inst["devices"], inst["blocks"]
    fl = [k for k, sl in enumerate(dec.sl) if not sl]
    blocks = [1 if not sl else 0 for sl in dec.sl]
    nsl = 1 if any(dec.sl) else 0
    if len(fl) + nsl > N:
        return replace(dec, blocks=blocks, sl_blocks=nsl)  # infeasible; the evaluator says so

    def chain(n):
        return sum(
            gen.sl_time(inst, devs[k], dec.batch[k], dec.cut[k], n) for k, sl in enumerate(dec.sl) if sl
        )

    times = {k: gen.fl_time(inst, devs[k], dec.batch[k], 1) for k in fl}
    t_chain = chain(1) if nsl else -1.0
    for _ in range(N - len(fl) - nsl):
        slow = max(times, key=times.get) if times else None
        if slow is None or t_chain >= times[slow]:
            nsl += 1
            t_chain = chain(nsl)
        else:
            blocks[slow] += 1
            times[slow] = gen.fl_time(inst, devs[slow], dec.batch[slow], blocks[slow])
    return replace(dec, blocks=blocks, sl_blocks=nsl)


def delay(inst: dict, dec) -> float:
    s = ev.score(inst, dec)
    return s.delay_ms if s.feasible else math.inf


def round_to_grid(inst: dict, dec, repair: bool = True):
    """Batch sizes to the nearest allowed size (in log scale, within memory) and RBs by
    :func:`grid_blocks`; then (``repair``) a repair of the rounding: each device's batch size
    moved one grid step down or up (RBs re-allocated) while that lowers the delay."""
    B = inst["batches"]
    batch = []
    for k, b in enumerate(dec.batch):
        ok = [x for x in B if x <= batch_cap(inst, k, dec.sl[k])]
        batch.append(min(ok, key=lambda x: abs(math.log(x) - math.log(b))))
    out = grid_blocks(inst, replace(dec, batch=batch))
    best = delay(inst, out)
    improved = repair
    while improved:
        improved = False
        for k in range(len(batch)):
            i = B.index(out.batch[k])
            for j in (i - 1, i + 1):
                if 0 <= j < len(B) and B[j] <= batch_cap(inst, k, out.sl[k]):
                    trial = grid_blocks(inst, replace(out, batch=out.batch[:k] + [B[j]] + out.batch[k + 1 :]))
                    d = delay(inst, trial)
                    if d < best:
                        out, best, improved = trial, d, True
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


def start_points(inst: dict, randoms: int = 4, seed: int = 0):
    """(label, start decision) of every start: every device FL; every device SL at each candidate
    cut (so the best single cut is among them) and at each device's own best cut; ``randoms``
    random mode vectors at each device's best cut. Batch sizes start at the largest that fits."""
    rng = random.Random(seed)
    K, N, cuts = len(inst["devices"]), inst["blocks"], inst["cuts"]

    def make(sl, cut):
        batch = [batch_cap(inst, k, sl[k]) for k in range(K)]
        return ev.Decision(sl=sl, batch=batch, blocks=[N / (K + 1)] * K, cut=cut, sl_blocks=N / (K + 1))

    def own_best(sl):
        d = make(sl, [cuts[0]] * K)
        return [best_cut(inst, d, k, N / (K + 1)) for k in range(K)]

    yield "all FL", make([False] * K, own_best([False] * K))
    for c in cuts:
        yield f"all SL, cut {c}", make([True] * K, [c] * K)
    yield "all SL, own best cuts", make([True] * K, own_best([True] * K))
    for r in range(randoms):
        sl = [rng.random() < 0.5 for _ in range(K)]
        yield f"random modes {r + 1}", make(sl, own_best(sl))


def solve(inst: dict, randoms: int = 4, seed: int = 0) -> dict:
    """Best rounded answer over the starts of :func:`start_points`.

    Returns the answer (``solution``: the model's variables; ``score``: the evaluator's), the
    relaxed objective of its run (``relaxed_ms``), the median rounded delay over the feasible
    starts (``median_ms``), each start's ``(label, rounded delay or None)`` (``runs``) and the
    best delay with plain rounding, without the repair (``plain_ms``)."""
    runs, plain = [], math.inf
    for label, start in start_points(inst, randoms, seed):
        dec, value = bcd(inst, start)
        rounded = round_to_grid(inst, dec)
        runs.append((label, ev.score(inst, rounded), value, rounded))
        plain = min(plain, delay(inst, round_to_grid(inst, dec, repair=False)))
    feasible = [r for r in runs if r[1].feasible]
    best = min(feasible, key=lambda r: r[1].delay_ms)
    values = sorted(r[1].delay_ms for r in feasible)
    return dict(
        solution=to_solution(inst, best[3]),
        score=best[1],
        relaxed_ms=best[2],
        median_ms=values[len(values) // 2],
        runs=[(label, s.delay_ms if s.feasible else None) for label, s, _, _ in runs],
        plain_ms=plain,
    )
