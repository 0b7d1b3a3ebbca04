"""The existing engine suites (test_book.py, test_properties.py) run again with the other book.

Those modules test `kyrios.exchange.engine.OrderBook`, which is the C book when `_cbook` is built
and the pure-Python one otherwise (or with KYRIOS_PURE_ENGINE=1). This module collects the same
test functions and points their `OrderBook` at the other implementation, so both books pass the
same unit tests and the same differential property test against the reference model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from kyrios.exchange.engine import C_ENGINE, PyOrderBook
from tests.exchange.engine import test_book, test_properties

if TYPE_CHECKING:
    from kyrios.exchange.engine._cbook import OrderBook as CBookType

try:
    from kyrios.exchange.engine._cbook import OrderBook as _built_cbook

    CBook: type[CBookType] | None = _built_cbook
except ImportError:  # pragma: no cover - depends on the build
    CBook = None

OTHER_BOOK = PyOrderBook if C_ENGINE else CBook
NOT_BUILT = (
    "the C book kyrios.exchange.engine._cbook is not built (`pip install -e .` builds it where a C"
    " compiler is available, as CI does), so there is no second implementation to test"
)
pytestmark = pytest.mark.skipif(OTHER_BOOK is None, reason=NOT_BUILT)


@pytest.fixture(autouse=True, scope="module")
def _other_book() -> Iterator[None]:
    """Module-scoped (Hypothesis refuses function-scoped fixtures around @given tests)."""
    with pytest.MonkeyPatch.context() as patch:
        for module in (test_book, test_properties):
            patch.setattr(module, "OrderBook", OTHER_BOOK)
        yield


for _module in (test_book, test_properties):
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and callable(_test):
            globals()[_name] = _test
