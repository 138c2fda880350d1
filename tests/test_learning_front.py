"""HFSL's exact time/energy front by adaptive epsilon-constraint (examples/learning/hfsl/front.py):
the parts, solved in parallel by modelsplit, give hfsl/dp.py's front point for point; the equal
bands alone give points of that front only."""

from __future__ import annotations

import sys
from pathlib import Path

LEARNING = Path(__file__).resolve().parent.parent / "examples" / "learning"
sys.path.insert(0, str(LEARNING))
sys.path.insert(0, str(LEARNING / "hfsl"))

import front  # noqa: E402
from common import system_module  # noqa: E402


def dp_front(size: str = "small") -> list[tuple[int, int]]:
    gen = system_module("hfsl", "gen")
    tab = gen.with_energy_range(gen.tables(gen.make_instance(size, 1)))
    return system_module("hfsl", "dp").FrontDP(tab).front()


def test_adaptive_front_is_the_dp_front_point_for_point():
    got = front.exact_front(LEARNING / "hfsl" / "small.dzn", workers=2, bands=4)
    assert got.complete and all(p.proven for p in got.points)
    assert [(p.time, p.energy) for p in got.points] == dp_front()
    # each point's solution is the model's: its T and E are the point
    assert all((p.values["T"], p.values["E"]) == (p.time, p.energy) for p in got.points)
    # every band ends with a part proven empty, and a part per point at least
    assert got.parts >= len(got.points) + got.empty and got.empty >= 1 and got.rounds >= 2


def test_equal_bands_give_points_of_the_front_only():
    exact = dp_front()
    got = front.exact_front(LEARNING / "hfsl" / "small.dzn", workers=2, bands=3, adaptive=False)
    pts = [(p.time, p.energy) for p in got.points]
    assert got.rounds == 1 and got.parts == 3
    assert pts and set(pts) <= set(exact) and pts[0] == exact[0]  # the fastest point is always found
    assert len(pts) < len(exact)  # three bands do not find all eleven points of this front
