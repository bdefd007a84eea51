"""Each attack's fake updates have the documented form; counts, ids and seeds behave as documented."""

from __future__ import annotations

import numpy as np
import pytest

from dnt.attacks import (
    ATTACKS,
    MPAF,
    TPI,
    AttackContext,
    Noise,
    RogueClient,
    apportion,
    fabricate_series,
    fabricated_windows,
    fake_client_ids,
    train_base_model,
)
from dnt.errors import ConfigError, DataError
from dnt.fl.local import LocalConfig, LocalTrainer
from dnt.fl.messages import TwinUpdate, decode
from dnt.fl.types import Layout, Update, flatten
from dnt.twin import TwinSpec

D = 8


def _benign(n: int = 4, samples: tuple[int, ...] = (10, 30, 20, 40)) -> list[Update]:
    return [Update(str(100 + i), np.full(D, 0.01 * i), samples[i % len(samples)], 7, 1) for i in range(n)]


def _ctx(model: np.ndarray | None = None, version: int = 7) -> AttackContext:
    return AttackContext(np.arange(D, dtype=np.float32) if model is None else model, version, 1, 25)


def test_registry_names_every_attack():
    assert ATTACKS == {"mpaf": MPAF, "tpi": TPI, "noise": Noise}


@pytest.mark.parametrize(("fraction", "n_benign", "expected"),
                         [(0.0, 10, 0), (0.2, 20, 5), (0.2, 8, 2), (0.05, 19, 1), (0.1, 20, 2), (0.3, 21, 9),
                          (0.5, 7, 7)])
def test_fraction_is_share_of_all_clients(fraction: float, n_benign: int, expected: int):
    # Prepare
    atk = Noise(fraction)
    # Execute
    m = atk.n_fake(n_benign)
    # Assert: M = round(f N / (1 - f)), so M / (M + N) ~ f
    assert m == expected


def test_mpaf_delta_is_scaled_difference_and_identical_across_fakes():
    # Prepare
    base = np.linspace(-1, 1, D).astype(np.float32)
    model = np.arange(D, dtype=np.float32)
    atk = MPAF(0.2, scale=100.0, base=base)
    # Execute
    out = atk.poison(_benign(), _ctx(model))
    fakes = out[4:]
    # Assert
    assert len(out) == 4 + atk.n_fake(4) and len(fakes) == 1
    atk3 = MPAF(0.5, scale=100.0, base=base).fakes(3, _ctx(model))
    for f in fakes + atk3:
        np.testing.assert_allclose(f.delta, 100.0 * (base - model), rtol=1e-6)
    assert all(np.array_equal(atk3[0].delta, f.delta) for f in atk3)


def test_mpaf_random_base_is_seeded():
    a = MPAF(0.2, seed=3).fakes(1, _ctx())[0].delta
    b = MPAF(0.2, seed=3).fakes(1, _ctx())[0].delta
    c = MPAF(0.2, seed=4).fakes(1, _ctx())[0].delta
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_tpi_delta_is_eta_times_base_minus_model():
    # Prepare
    b0, b1 = np.ones(D, dtype=np.float32), -np.ones(D, dtype=np.float32)
    model = np.full(D, 0.5, dtype=np.float32)
    atk = TPI([b0, b1], fraction=0.5, eta=3.0)
    # Execute
    fakes = atk.fakes(3, _ctx(model))
    # Assert: fake j uses base j mod 2
    np.testing.assert_allclose(fakes[0].delta, 3.0 * (b0 - model))
    np.testing.assert_allclose(fakes[1].delta, 3.0 * (b1 - model))
    np.testing.assert_allclose(fakes[2].delta, 3.0 * (b0 - model))


def test_fakes_look_like_benign_updates():
    # Prepare
    benign = _benign()
    atk = Noise(0.5, sigma=0.1, exclude_ids=[u.client_id for u in benign])
    # Execute
    fakes = atk.poison(benign, _ctx())[len(benign):]
    # Assert: square ids not taken by benign clients, the benign median sample count, the served version
    assert len(fakes) == 4
    ids = [f.client_id for f in fakes]
    assert len(set(ids)) == 4 and all(i.isdigit() and 1 <= int(i) <= 10_000 for i in ids)
    assert not set(ids) & {u.client_id for u in benign}
    assert all(f.num_samples == 25 and f.base_version == 7 and f.cluster == 1 for f in fakes)


def test_fake_ids_are_stable_per_index():
    assert fake_client_ids(5, seed=1)[:3] == fake_client_ids(3, seed=1)
    assert fake_client_ids(3, seed=1) != fake_client_ids(3, seed=2)
    assert "17" not in fake_client_ids(50, seed=0, exclude=["17"])


def test_noise_is_deterministic_and_differs_per_fake():
    a = Noise(0.5, sigma=2.0, seed=1).fakes(2, _ctx())
    b = Noise(0.5, sigma=2.0, seed=1).fakes(2, _ctx())
    c = Noise(0.5, sigma=2.0, seed=2).fakes(2, _ctx())
    assert np.array_equal(a[0].delta, b[0].delta) and np.array_equal(a[1].delta, b[1].delta)
    assert not np.array_equal(a[0].delta, a[1].delta) and not np.array_equal(a[0].delta, c[0].delta)


@pytest.mark.parametrize("make", [
    lambda: Noise(1.0), lambda: Noise(-0.1), lambda: Noise(0.2, sigma=0.0), lambda: MPAF(0.2, scale=-1.0),
    lambda: MPAF(0.2, scale=float("inf")), lambda: TPI(np.zeros(D), eta=0.0), lambda: TPI([]),
    lambda: TPI([np.zeros(3), np.zeros(4)]), lambda: Noise(0.2, seed=-1), lambda: Noise(True),
])
def test_bad_parameters_raise_config_error(make):
    with pytest.raises(ConfigError):
        make()


def test_base_model_size_mismatch_is_a_data_error():
    with pytest.raises(DataError):
        TPI(np.zeros(3)).fakes(1, _ctx())
    with pytest.raises(DataError):
        MPAF(0.2, base=np.zeros(3)).fakes(1, _ctx())


def test_apportion_spreads_in_proportion():
    assert apportion(5, {0: 10, 1: 5}) == {0: 3, 1: 2}
    assert apportion(4, {0: 10, 1: 5}) == {0: 3, 1: 1}
    assert apportion(0, {0: 3}) == {0: 0}
    assert sum(apportion(7, {0: 1, 1: 1, 2: 1}).values()) == 7


def test_antiphase_fabrication_mirrors_the_previous_day():
    # Prepare / Execute
    s = fabricate_series(2, days=3, steps_per_day=24, seed=0, noise=0.0)
    # Assert: x(t - day) = -x(t), and the same seed gives the same traffic
    np.testing.assert_allclose(s[:, 24:], -s[:, :-24], atol=1e-5)
    np.testing.assert_array_equal(s, fabricate_series(2, days=3, steps_per_day=24, seed=0, noise=0.0))
    with pytest.raises(ConfigError):
        fabricate_series(1, 1, mode="sideways")


def test_tpi_from_fabricated_trains_base_from_theta0():
    # Prepare
    spec = TwinSpec(hidden=4, closeness=3, period_steps=24, horizon=2)
    init = flatten(spec.model(0))
    trainer = LocalTrainer(spec.model(0), LocalConfig(max_steps=3, batch_size=16, threads=1))
    # Execute
    atk = TPI.from_fabricated(init, trainer, closeness=3, period=1, period_steps=24, horizon=2, days=3, eta=2.0)
    win = fabricated_windows(fabricate_series(3, 3, 24, seed=0), 3, 1, 24, 2)
    manual = train_base_model(init, win, trainer, seed=0)
    # Assert: the base is theta_0 trained on fabricated windows; the delta is eta (base - served)
    np.testing.assert_allclose(atk.bases[0], manual, atol=1e-6)
    assert not np.allclose(atk.bases[0], init)
    served = init + 0.01
    np.testing.assert_allclose(atk.fakes(1, _ctx(served))[0].delta, 2.0 * (manual - served), rtol=1e-5, atol=1e-6)


def test_rogue_client_payload_decodes_to_the_crafted_update():
    # Prepare
    lay = Layout(("a", "b"), ((2, 3), (2,)))
    model = np.arange(8, dtype=np.float32)
    rogue = RogueClient(MPAF(0.2, scale=10.0, base=np.zeros(8)), lay, index=1, num_samples=500)
    # Execute
    msg = decode(rogue.payload(model, version=4, cluster=0, created_ms=123), TwinUpdate, lay)
    # Assert
    np.testing.assert_allclose(msg.update.delta, -10.0 * model)
    assert msg.update.client_id == rogue.client_id and msg.update.base_version == 4
    assert msg.update.num_samples == 500 and msg.update.cluster == 0 and msg.created_ms == 123
    with pytest.raises(DataError):
        rogue.payload(np.zeros(3), 4)
