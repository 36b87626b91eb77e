"""How many examples a property test draws in each tier (tests/conftest.py applies it): the edit loop's tier
(`-m "not slow"`) a quarter of what each test asks for, at least one; the whole suite, and any run without such a
`-m`, every one."""
from __future__ import annotations

# The share of a property test's examples the edit loop's tier draws: the golden replay's cuts were a third of that
# tier's worker time; the whole suite still draws every example each test asks for.
FAST_TIER_SHARE = 4


def leaves_out_the_slow_tier(markexpr: str) -> bool:
    """Whether a run's `-m` expression is the edit loop's tier: it keeps a test with no mark and drops one marked
    slow (`-m "not slow"`, and the like; `-m slow` or `-m foo` is no tier)."""
    if not markexpr:
        return False
    from _pytest.mark.expression import Expression     # what `-m` itself evaluates (pyproject keeps pytest < 9.2)
    expression = Expression.compile(markexpr)
    return expression.evaluate(lambda name, **kwargs: False) and \
        not expression.evaluate(lambda name, **kwargs: name == "slow")


def fewer_examples(test, share: int) -> None:
    """A hypothesis test's max_examples divided by `share` (at least one), once per process; anything else as is.
    Explicit @settings win over a profile, so the test's own settings object is replaced by a child of it."""
    if test is None or not getattr(test, "is_hypothesis_test", False) or getattr(test, "_espat_fewer", False):
        return
    from hypothesis import settings
    own = test._hypothesis_internal_use_settings        # read by hypothesis at each call of the test
    test._hypothesis_internal_use_settings = settings(own, max_examples=max(1, own.max_examples // share))
    test._espat_fewer = True
