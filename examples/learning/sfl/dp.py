"""Exact optimum of the SFL integer tables by bisection on T and a DP over the devices.

For a threshold T, device k with n resource blocks needs at least need[k][n] server shares (the
least over its cuts; none if no cut fits). A DP over the devices with state "blocks used" keeps
the least shares used; T is feasible when some state uses at most M shares. The least feasible T
is the optimum of model.mzn on the same tables (pseudo-polynomial: the min-max core with two
separable budgets is not where the hardness of CP comes from, see the README).
"""

from __future__ import annotations

import numpy as np

BIG = 1 << 40


def feasible(tab: dict, T: int) -> bool:
    K, N, M = tab["K"], tab["N"], tab["M"]
    tdev = np.array(tab["TDEV"])  # [k, s]
    tcom = np.array(tab["TCOM"])  # [k, s, n-1]
    tsrv = np.array(tab["TSRV"])  # [s, m-1]
    dp = np.full(N + 1, BIG, dtype=np.int64)
    dp[0] = 0
    for k in range(K):
        # fits[s, n, m]: device k meets T with cut s, n blocks, m shares
        fits = tdev[k, :, None, None] + tcom[k, :, :, None] + tsrv[:, None, :] <= T
        shares = np.where(fits, np.arange(1, M + 1)[None, None, :], BIG).min(axis=(0, 2))  # [n-1]
        new = np.full(N + 1, BIG, dtype=np.int64)
        for n in range(1, N + 1):
            if shares[n - 1] >= BIG:
                continue
            np.minimum(new[n:], dp[: N + 1 - n] + shares[n - 1], out=new[n:])
        dp = np.minimum(new, BIG)
    return bool(dp.min() <= M)


def optimum(tab: dict) -> int:
    """The least round time T (ms) of the integer model."""
    hi = max(
        tab["TDEV"][k][s] + tab["TCOM"][k][s][0] + tab["TSRV"][s][0]
        for k in range(tab["K"])
        for s in range(tab["S"])
    )
    lo = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if feasible(tab, mid):
            hi = mid
        else:
            lo = mid + 1
    return lo
