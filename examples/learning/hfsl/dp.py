"""Exact time/energy front of the HFSL integer tables by dynamic programming (a cross-check).

For one choice of local epochs E (index i), a device's round on the tables is
``E (TDEV + TSM + TSRV) + TMOD`` ms and ``E (EDEV + ESM) + EMOD`` mJ: the one-round DP below on
these scaled tables. For a round-time threshold T, each device's options (cut, blocks, DVFS level,
shares) with time <= T are reduced to the least energy per (blocks, shares) pair, and a DP over the
devices with state (blocks used, shares used) gives Er*(T), the least energy of a round within T.
Er*(T) falls as T grows; the round front is its list of steps, found by bisection on T.

The whole training with E takes ``ceil(RND x T / TU)`` (s) and ``ceil(RND x Er / EU)`` (J); both
maps are non-decreasing, so the training front of E is the non-dominated image of its round front,
and the model's front is the non-dominated union over the epochs choices (``FrontDP.front``).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

INF = np.iinfo(np.int64).max // 4


def _options(tab: dict, k: int, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Round time and energy of device k with local epochs EP[i], indexed [c, f, n-1, m]
    (m = 0..M); invalid entries INF."""
    S, N, M, F, E = tab["S"], tab["N"], tab["M"], tab["F"], tab["EP"][i]
    t = np.full((S + 1, F, N, M + 1), INF, dtype=np.int64)
    e = np.full_like(t, INF)
    TDEV, EDEV, TSM, ESM, TMOD, EMOD, TSRV = (
        np.array(tab[x], dtype=np.int64) for x in ("TDEV", "EDEV", "TSM", "ESM", "TMOD", "EMOD", "TSRV")
    )
    for c in range(S + 1):
        for m in [0] if c == 0 else range(1, M + 1):
            srv = TSRV[c, max(m, 1) - 1]
            t[c, :, :, m] = E * (TDEV[k, c, :, None] + TSM[k, c, None, :] + srv) + TMOD[k, c, None, :]
            e[c, :, :, m] = E * (EDEV[k, c, :, None] + ESM[k, c, None, :]) + EMOD[k, c, None, :]
    return t, e


class RoundDP:
    """The front of one round (ms, mJ) with the local epochs EP[i] fixed."""

    def __init__(self, tab: dict, i: int):
        self.tab = tab
        self.opts = [_options(tab, k, i) for k in range(tab["K"])]
        self.tmax = int(max(t[t < INF].max() for t, _ in self.opts))

    def _layers(self, T: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The DP over the devices within round time T: after device k, ``dps[k + 1][b, s]`` is
        the least energy of devices 0..k on b blocks and s shares in all; ``bests[k][n-1, m]``
        is device k's least energy on n blocks and m shares within T."""
        N, M = self.tab["N"], self.tab["M"]
        dp = np.full((N + 1, M + 1), INF, dtype=np.int64)
        dp[0, 0] = 0
        dps, bests = [dp], []
        for t, e in self.opts:
            best = np.where(t <= T, e, INF).min(axis=(0, 1))  # [n-1, m]
            shifted = np.full((M + 1, N + 1, M + 1), INF, dtype=np.int64)  # [m, b, s] = dp[b, s - m]
            for m in range(M + 1):
                shifted[m, :, m:] = dp[:, : M + 1 - m]
            new = np.full_like(dp, INF)
            for n in range(1, N + 1):
                if best[n - 1].min() >= INF:
                    continue
                cand = (shifted[:, : N + 1 - n, :] + best[n - 1, :, None, None]).min(axis=0)
                np.minimum(new[n:], cand, out=new[n:])
            dp = np.minimum(new, INF)
            dps.append(dp)
            bests.append(best)
        return dps, bests

    def least_energy(self, T: int) -> int | None:
        """Er*(T): least energy of a round with time <= T (None: no such round)."""
        v = int(self._layers(T)[0][-1].min())
        return None if v >= INF else v

    def solution(self, T: int) -> list[tuple[int, int, int, int]] | None:
        """A round of time <= T and energy Er*(T): per device (c, f, n, m), the cut option
        (0 federated), the DVFS level (1-based), the blocks and the shares (None: no such round)."""
        dps, bests = self._layers(T)
        b, s = np.unravel_index(int(np.argmin(dps[-1])), dps[-1].shape)
        if dps[-1][b, s] >= INF:
            return None
        out = []
        for k in range(self.tab["K"] - 1, -1, -1):  # back from the last device
            n, m = next(
                (n, m)
                for n in range(1, b + 1)
                for m in range(s + 1)
                if bests[k][n - 1, m] < INF and dps[k][b - n, s - m] + bests[k][n - 1, m] == dps[k + 1][b, s]
            )
            t, e = self.opts[k]
            energy = np.where(t[:, :, n - 1, m] <= T, e[:, :, n - 1, m], INF)
            c, f = np.unravel_index(int(np.argmin(energy)), energy.shape)
            out.append((int(c), int(f) + 1, n, m))
            b, s = b - n, s - m
        return out[::-1]

    def least_time(self, cap: int | None = None, lo: int = 0) -> int | None:
        """Least T >= lo with Er*(T) <= cap (cap None: any energy)."""
        hi = self.tmax
        ok = self.least_energy(hi)
        if ok is None or (cap is not None and ok > cap):
            return None
        while lo < hi:
            mid = (lo + hi) // 2
            e = self.least_energy(mid)
            if e is not None and (cap is None or e <= cap):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def front(self) -> list[tuple[int, int]]:
        """Every non-dominated (T, Er) of one round, by increasing T (decreasing Er)."""
        out = []
        T = self.least_time()
        while T is not None:
            E = self.least_energy(T)
            out.append((T, E))
            T = self.least_time(cap=E - 1, lo=T + 1)
        return out


def non_dominated(points) -> list[tuple[int, int]]:
    """The non-dominated (time, energy) points (both minimised), by increasing time."""
    out: list[tuple[int, int]] = []
    for t, e in sorted(set(points)):
        if not out or e < out[-1][1]:
            out.append((t, e))
    return out


class FrontDP:
    """The front of the whole training (s, J) over every choice of local epochs."""

    def __init__(self, tab: dict):
        self.tab = tab
        self.rounds = [RoundDP(tab, i) for i in range(tab["NE"])]

    def total(self, i: int, T: int, Er: int) -> tuple[int, int]:
        """A round (ms, mJ) with local epochs EP[i] as the whole training (s, J, rounded up)."""
        R, TU, EU = self.tab["RND"][i], self.tab["TU"], self.tab["EU"]
        return -(-R * T // TU), -(-R * Er // EU)

    def fastest(self) -> tuple[int, int]:
        """The front's first point (least time, then least energy) without the whole front."""
        return self._first[:2]

    @cached_property
    def _first(self) -> tuple[int, int, int]:
        """(time, energy, epochs index 0-based) of the front's first point."""
        R, TU = self.tab["RND"], self.tab["TU"]
        least = [self.total(i, d.least_time(), 0)[0] for i, d in enumerate(self.rounds)]
        t = min(least)
        # a training within t whole seconds has rounds of at most t * TU // RND ms
        return min(
            (t, self.total(i, 0, d.least_energy(t * TU // R[i]))[1], i)
            for i, d in enumerate(self.rounds)
            if least[i] == t
        )

    def fastest_solution(self) -> tuple[int, list, list, list, list]:
        """Decisions (e, c, n, f, m) in the model's sense (e 1-based) of the fastest training."""
        t, _, i = self._first
        c, f, n, m = (list(x) for x in zip(*self.rounds[i].solution(t * self.tab["TU"] // self.tab["RND"][i])))
        return i + 1, c, n, f, m

    def fronts(self) -> list[list[tuple[int, int]]]:
        """Per epochs choice, the training front of that choice alone (s, J)."""
        return [non_dominated(self.total(i, T, E) for T, E in d.front()) for i, d in enumerate(self.rounds)]

    def front(self) -> list[tuple[int, int]]:
        """Every non-dominated (time s, energy J) of the model, by increasing time."""
        return non_dominated(p for f in self.fronts() for p in f)

    def epochs_of(self) -> dict[tuple[int, int], int]:
        """Each front point's epochs index (1-based, the model's ``e``; the least if several)."""
        out: dict[tuple[int, int], int] = {}
        for i, f in enumerate(self.fronts()):
            for p in f:
                out.setdefault(p, i + 1)
        return {p: out[p] for p in self.front()}
