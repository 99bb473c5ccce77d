import gc
from collections.abc import Iterator

import pytest

from function_support.gc_tuning import GEN0_THRESHOLD, collect_less_often


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


@pytest.mark.usefixtures("thresholds")
def test_only_generation_0_is_raised_and_collection_stays_on() -> None:
    gc.set_threshold(700, 10, 10)
    collect_less_often()
    assert gc.get_threshold() == (GEN0_THRESHOLD, 10, 10)
    assert gc.isenabled()


@pytest.mark.usefixtures("thresholds")
def test_a_higher_threshold_set_elsewhere_is_not_lowered() -> None:
    gc.set_threshold(GEN0_THRESHOLD * 2, 5, 5)
    collect_less_often()
    assert gc.get_threshold() == (GEN0_THRESHOLD * 2, 5, 5)
