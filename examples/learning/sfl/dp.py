"""Exact optimum of the SFL integer tables with the energy cap relaxed: bisection on T and a DP
over the devices, for each choice of local epochs.

For a number of local epochs E and a threshold T, device k with n resource blocks needs at least
need[k][n] server shares (the least over its cuts; none if no cut fits). A DP over the devices
with state "blocks used" keeps the least shares used; T is feasible when some state uses at most
M shares. The least feasible T times the rounds E needs, the least over E, is the optimum of
model.mzn on the same tables *without its energy cap* (pseudo-polynomial: the min-max core with
two separable budgets). The cap couples all devices through one more budget, which this DP does
not carry: with the cap, ``optimum`` is a lower bound of the model's optimum, equal to it when
the cap does not bind (the tests check both).
"""

from __future__ import annotations

import numpy as np

BIG = 1 << 40


def feasible(tab: dict, T: int, i: int = 0) -> bool:
    """Some answer with local epochs EP[i] has round time at most T (the cap relaxed)."""
    K, N, M, E = tab["K"], tab["N"], tab["M"], tab["EP"][i]
    tdev = np.array(tab["TDEV"])  # [k, s]
    tsm = np.array(tab["TSM"])  # [k, s, n-1]
    tsrv = np.array(tab["TSRV"])  # [s, m-1]
    tmod = np.array(tab["TMOD"])  # [k, s, n-1]
    dp = np.full(N + 1, BIG, dtype=np.int64)
    dp[0] = 0
    for k in range(K):
        # fits[s, n, m]: device k meets T with cut s, n blocks, m shares
        epoch = tdev[k, :, None, None] + tsm[k, :, :, None] + tsrv[:, None, :]
        fits = E * epoch + tmod[k, :, :, None] <= T
        shares = np.where(fits, np.arange(1, M + 1)[None, None, :], BIG).min(axis=(0, 2))  # [n-1]
        new = np.full(N + 1, BIG, dtype=np.int64)
        for n in range(1, N + 1):
            if shares[n - 1] >= BIG:
                continue
            np.minimum(new[n:], dp[: N + 1 - n] + shares[n - 1], out=new[n:])
        dp = np.minimum(new, BIG)
    return bool(dp.min() <= M)


def round_optimum(tab: dict, i: int = 0) -> int:
    """The least round time T (ms) with local epochs EP[i], the cap relaxed."""
    E = tab["EP"][i]
    hi = max(
        E * (tab["TDEV"][k][s] + tab["TSM"][k][s][0] + tab["TSRV"][s][0]) + tab["TMOD"][k][s][0]
        for k in range(tab["K"])
        for s in range(tab["S"])
    )
    lo = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if feasible(tab, mid, i):
            hi = mid
        else:
            lo = mid + 1
    return lo


def optimum(tab: dict) -> int:
    """The least training time RND[i] x T (ms) over the epochs choices, the energy cap relaxed."""
    return min(tab["RND"][i] * round_optimum(tab, i) for i in range(tab["NE"]))
