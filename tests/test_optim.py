"""sendflow.optim.Adam against torch.optim.Adam: the same weights bit for bit after real
training steps of the temporal models, and no torch._dynamo import on the way."""

import copy
import subprocess
import sys

import pytest
import torch

from sendflow.models.bigru import BiGRU
from sendflow.models.mstcn import MSTCN
from sendflow.optim import Adam


@pytest.mark.parametrize(
    "make",
    [
        lambda: MSTCN(12, 3, "multitask", stages=2, layers=3, channels=8, dropout=0.0),
        lambda: BiGRU(12, 3, "multitask", hidden=8, layers=1, dropout=0.0),
    ],
)
@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_the_same_weights_as_torch_adam_bit_for_bit(make, weight_decay):
    torch.manual_seed(0)
    ours = make()
    theirs = copy.deepcopy(ours)
    optimisers = (
        Adam(ours.parameters(), lr=5e-3, weight_decay=weight_decay),
        torch.optim.Adam(theirs.parameters(), lr=5e-3, weight_decay=weight_decay),
    )
    for step in range(6):
        x = torch.randn(3, 12, 20, generator=torch.Generator().manual_seed(step))
        for model, optimiser in zip((ours, theirs), optimisers):
            optimiser.zero_grad()
            model(x, torch.ones(3, 1, 20))[-1].pow(2).mean().backward()
            optimiser.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(ours.parameters(), make().parameters()))  # it trained


def test_a_restored_state_continues_exactly():
    torch.manual_seed(1)
    model = MSTCN(4, 3, "multitask", stages=1, layers=2, channels=4, dropout=0.0)
    optimiser = Adam(model.parameters(), lr=1e-2, weight_decay=0.0)

    def step(m, o, seed):
        o.zero_grad()
        m(torch.randn(2, 4, 9, generator=torch.Generator().manual_seed(seed)))[-1].sum().backward()
        o.step()

    step(model, optimiser, 0)
    twin = copy.deepcopy(model)
    restored = Adam(twin.parameters(), lr=1e-2, weight_decay=0.0)
    restored.load_state_dict(copy.deepcopy(optimiser.state_dict()))
    step(model, optimiser, 1)
    step(twin, restored, 1)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters()))


def test_training_with_it_never_imports_dynamo():
    code = (
        "import sys, torch\nfrom sendflow.optim import Adam\nfrom sendflow.models.mstcn import MSTCN\n"
        "m = MSTCN(4, 3, 'multitask', stages=1, layers=2, channels=4, dropout=0.5)\n"
        "o = Adam(m.parameters(), lr=1e-3, weight_decay=0.0)\n"
        "m(torch.randn(2, 4, 9))[-1].sum().backward()\no.step()\nprint('torch._dynamo' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
