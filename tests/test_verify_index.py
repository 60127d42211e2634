"""The verifier's figure index gives exactly what a linear scan gives (order, ties, near misses)."""

import math
import random

from transfer_cli.verify.numbers import Quantity
from transfer_cli.verify.cited import Content, Joined


def _linear_find(qs, q):
    hits = list(dict.fromkeys(o for p, o in qs if q.same_as(p)))
    return ", ".join(hits[:3]) or None


def _linear_same_digits(qs, q):
    if q.mantissa < 10 and q.mantissa == int(q.mantissa):
        return None
    return next(((p, o) for p, o in qs if math.isclose(q.mantissa, p.mantissa, rel_tol=1e-9) and not q.same_as(p)),
                None)


def _same(got, want) -> bool:
    """The same (quantity, origin) entry, compared by identity: a NaN figure is not equal to itself."""
    return (got is None and want is None) or (got is not None and want is not None
                                              and got[0] is want[0] and got[1] is want[1])


def _quantities(rng, n):
    dims = [None, "money", "percent", "count", "firms", "count:项", "area", "raw:吨/日"]
    out = []
    for i in range(n):
        m = rng.choice([0, 1, 5, 12, 12.5, 95.26, 952.6, 1000, 3.0000000001, 3, float("nan")])
        mag = rng.choice([1, 1e4, 1e8])
        v = m * mag * (1 + rng.choice([0, 0, 5e-10, -5e-10, 3e-9]))  # inside and just outside rel_tol
        out.append((Quantity(v, rng.choice(dims), m, f"{m}"), f"p/N-{i % 17}"))
    return out


def test_index_matches_linear_scan():
    rng = random.Random(7)
    for n in (5, 40, 400):
        qs = _quantities(rng, n)
        c = Content(quantities=list(qs))
        probes = [p for p, _ in _quantities(rng, 60)] + [p for p, _ in qs[:20]]
        for q in probes:
            assert c.find(q) == _linear_find(qs, q)
            assert _same(c.same_digits(q), _linear_same_digits(qs, q))
        c.quantities.extend(qs[:3])  # grown after indexing: the index is rebuilt
        for q in probes[:10]:
            assert c.find(q) == _linear_find(c.quantities, q)


def test_joined_reads_as_one():
    rng = random.Random(3)
    a, b = _quantities(rng, 50), _quantities(rng, 8)
    joined = Joined([Content(quantities=list(a)), Content(quantities=list(b))])
    for q, _ in _quantities(rng, 80):
        assert joined.find(q) == _linear_find(a + b, q)
        assert _same(joined.same_digits(q), _linear_same_digits(a + b, q))
