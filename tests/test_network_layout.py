"""The network picture is drawn the same way every time for the same network: people and agencies
do not move about between two views of a case (or between two servers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A seeded network of the demo's shape (people in three layers, agencies below, many links),
# laid out in a fresh interpreter: the order a set of node keys is walked in differs with each
# process's hash seed, and the layout must not depend on it.
SCRIPT = """
import json, random
from marac.present_network import LinkKind, NodeKind
from marac.network_svg import layout
from marac.present_network import NetworkLink, NetworkNode, PresentedNetwork
rng = random.Random(1)
nodes = [NetworkNode(f"p{i}", NodeKind.VICTIM, f"Person {i}", "", i < 4, i % 3) for i in range(14)]
nodes += [NetworkNode(f"a{i}", NodeKind.AGENCY, f"Agency {i}", "", False, 3) for i in range(7)]
keys = [n.key for n in nodes]
pairs = {tuple(sorted(rng.sample(keys, 2))) for _ in range(40)}
links = tuple(
    NetworkLink(a, b, LinkKind.PARTNER, "", "", False) for a, b in sorted(pairs)
)
network = PresentedNetwork(1, "T-1", tuple(nodes), links, (), (), (), 0, None, False)
positions, width, height = layout(network)
print(json.dumps([sorted(positions.items()), width, height]))
"""


def test_the_layout_does_not_depend_on_the_process_hash_seed() -> None:
    drawn = set()
    for seed in range(8):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=ROOT
        )
        assert result.returncode == 0, result.stderr
        drawn.add(result.stdout)
    assert len(drawn) == 1, f"{len(drawn)} different layouts of the same network"
    positions = json.loads(drawn.pop())[0]
    assert len(positions) == 21
