"""Exact time/energy front of the HFSL integer tables by dynamic programming (a cross-check).

For a round-time threshold T, each device's options (cut, blocks, DVFS level, shares) with time
<= T are reduced to the least energy per (blocks, shares) pair, and a DP over the devices with
state (blocks used, shares used) gives E*(T), the least total energy of a round within T. E*(T)
falls as T grows; the front is its list of steps, found by bisection on T.
"""

from __future__ import annotations

import numpy as np

INF = np.iinfo(np.int64).max // 4


def _options(tab: dict, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Time and energy of device k, indexed [c, f, n-1, m] (m = 0..M); invalid entries INF."""
    S, N, M, F = tab["S"], tab["N"], tab["M"], tab["F"]
    t = np.full((S + 1, F, N, M + 1), INF, dtype=np.int64)
    e = np.full_like(t, INF)
    TDEV, EDEV, TCOM, ECOM, TSRV = (
        np.array(tab[x], dtype=np.int64) for x in ("TDEV", "EDEV", "TCOM", "ECOM", "TSRV")
    )
    for c in range(S + 1):
        ms = [0] if c == 0 else range(1, M + 1)
        for m in ms:
            srv = TSRV[c, max(m, 1) - 1]
            t[c, :, :, m] = TDEV[k, c, :, None] + TCOM[k, c, None, :] + srv
            e[c, :, :, m] = EDEV[k, c, :, None] + ECOM[k, c, None, :]
    return t, e


class FrontDP:
    def __init__(self, tab: dict):
        self.tab = tab
        self.opts = [_options(tab, k) for k in range(tab["K"])]
        self.tmax = int(max(t[t < INF].max() for t, _ in self.opts))

    def least_energy(self, T: int) -> int | None:
        """E*(T): least energy of a round with time <= T (None: no such round)."""
        N, M = self.tab["N"], self.tab["M"]
        dp = np.full((N + 1, M + 1), INF, dtype=np.int64)
        dp[0, 0] = 0
        for t, e in self.opts:
            best = np.where(t <= T, e, INF).min(axis=(0, 1))  # [n-1, m]
            new = np.full_like(dp, INF)
            for n in range(1, N + 1):
                for m in range(M + 1):
                    b = best[n - 1, m]
                    if b >= INF:
                        continue
                    cand = dp[: N + 1 - n, : M + 1 - m] + b
                    np.minimum(new[n:, m:], cand, out=new[n:, m:])
            dp = np.minimum(new, INF)
        v = int(dp.min())
        return None if v >= INF else v

    def least_time(self, cap: int | None = None, lo: int = 0) -> int | None:
        """Least T >= lo with E*(T) <= cap (cap None: any energy)."""
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
        """Every non-dominated (T, E) of the integer model, by increasing T (decreasing E)."""
        out = []
        T = self.least_time()
        while T is not None:
            E = self.least_energy(T)
            out.append((T, E))
            T = self.least_time(cap=E - 1, lo=T + 1)
        return out
