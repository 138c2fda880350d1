"""SmartSplit baseline: the central manager's greedy, rule-based round plan.

Per device, the cut and checkpoint plan are set from its memory budget: among the (cut, plan)
pairs that fit, the one with the shortest round (its local steps' device -> server -> device
chains and the model exchange, evaluate.device_round_s) on an even share of the RBs. Devices are
then picked greedily: while some class is below its floor, the device covering most of the
deficit per second of round time; otherwise the highest utility per second; single swaps repair
a utility floor that is still missed. RBs: one each, then every spare RB to the slowest device.
"""

from __future__ import annotations

from _paths import load

ev = load("smartsplit", "evaluate")
gen = load("smartsplit", "gen")


def best_option(inst: dict, k: int, blocks: float) -> tuple[float, int, int] | None:
    """(seconds, cut, plan) of device k's fastest option that fits its memory."""
    opts = [
        (ev.device_round_s(inst, k, c, q, blocks), c, q)
        for c in inst["cuts"]
        for q in range(inst["plans"])
        if ev.fits(inst, k, c, q)
    ]
    return min(opts) if opts else None


def select(inst: dict, time_of: dict) -> list[int] | None:
    devs = inst["devices"]
    J = len(inst["theta"])
    chosen: list[int] = []
    while len(chosen) < inst["select"]:
        have = [sum(devs[k]["hist"][j] for k in chosen) for j in range(J)]
        deficit = [max(0, inst["theta"][j] - have[j]) for j in range(J)]
        rest = [k for k in time_of if k not in chosen]
        if not rest:
            return None
        if any(deficit):
            k = max(
                rest,
                key=lambda k: sum(min(d, devs[k]["hist"][j]) for j, d in enumerate(deficit)) / time_of[k],
            )
        else:
            k = max(rest, key=lambda k: gen.utility(inst, k) / time_of[k])
        chosen.append(k)
    return chosen


def floors_met(inst: dict, chosen: list[int]) -> bool:
    devs = inst["devices"]
    cover = all(sum(devs[k]["hist"][j] for k in chosen) >= t for j, t in enumerate(inst["theta"]))
    return cover and sum(gen.utility(inst, k) for k in chosen) >= inst["umin"]


def repair(inst: dict, chosen: list[int], time_of: dict) -> list[int] | None:
    if floors_met(inst, chosen):
        return chosen
    swaps = []
    for out in chosen:
        for inn in time_of:
            if inn in chosen:
                continue
            trial = [inn if k == out else k for k in chosen]
            if floors_met(inst, trial):
                swaps.append((max(time_of[k] for k in trial), trial))
    return min(swaps)[1] if swaps else None


def solve(inst: dict) -> dict | None:
    K, N, ksel = len(inst["devices"]), inst["blocks"], inst["select"]
    share = N / ksel
    options = {k: best_option(inst, k, share) for k in range(K)}
    time_of = {k: o[0] for k, o in options.items() if o is not None}
    chosen = select(inst, time_of)
    chosen = repair(inst, chosen, time_of) if chosen else None
    if chosen is None:
        return None
    blocks = {k: 1 for k in chosen}
    for _ in range(N - ksel):
        slow = max(chosen, key=lambda k: ev.device_round_s(inst, k, options[k][1], options[k][2], blocks[k]))
        blocks[slow] += 1
    x = [k in chosen for k in range(K)]
    cuts, plans = inst["cuts"], inst["plans"]
    sol = dict(
        x=x,
        c=[cuts.index(options[k][1]) + 1 if x[k] else 1 for k in range(K)],
        q=[options[k][2] + 1 if x[k] else 1 for k in range(K)],
        n=[blocks.get(k, 0) for k in range(K)],
    )
    assert all(1 <= v <= plans for v in sol["q"])
    return dict(solution=sol, score=ev.score(inst, ev.decision_from_solution(inst, sol)))


if __name__ == "__main__":  # pragma: no cover - manual check
    import json
    import sys

    print(solve(json.loads(open(sys.argv[1]).read())))
