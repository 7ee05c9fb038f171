import doctest

import pytest

from skadam import (
    _linear_loss,
    _linear_model,
    _losses,
    _penalties,
    _scaling,
    _training,
)


@pytest.mark.parametrize(
    "module", [_losses, _penalties, _linear_loss, _scaling, _training, _linear_model]
)
def test_docstring_examples_run(module):
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0
    assert attempted > 0
