import doctest

import pytest

from skadam import _estimators, _loss, _training


@pytest.mark.parametrize("module", [_loss, _training, _estimators])
def test_docstring_examples_run(module):
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
    if module is not _training:
        assert attempted > 0
