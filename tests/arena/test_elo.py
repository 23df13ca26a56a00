"""Online Elo arithmetic against values computed by hand, and its row-locked application."""

import pytest

from arena.battles import elo
from arena.battles.models import EloRating
from arena.battles.services import elo_apply
from tests.factories import AIModelFactory


def test_equal_ratings_expect_an_even_game():
    assert elo.expected_score(1000, 1000) == 0.5


def test_a_win_between_equals_moves_each_by_half_of_k():
    # K * (1 - 0.5) = 4 * 0.5 = 2
    assert elo.updated(1000, 1000, 1.0) == (1002.0, 998.0)


def test_a_win_by_the_favourite_moves_less():
    # expected = 1 / (1 + 10 ** (-4 / 400)) = 0.5057562...; delta = 4 * (1 - 0.5057562) = 1.976975
    left, right = elo.updated(1002, 998, 1.0)
    assert left == pytest.approx(1003.976975, abs=1e-6)
    assert right == pytest.approx(996.023025, abs=1e-6)


def test_a_draw_pulls_the_stronger_model_down():
    # expected = 1 / (1 + 10 ** (-100 / 400)) = 0.6400649
    # delta = 4 * (0.5 - 0.6400649) = -0.5602596
    left, right = elo.updated(1100, 1000, 0.5)
    assert left == pytest.approx(1099.4397404, abs=1e-6)
    assert right == pytest.approx(1000.5602596, abs=1e-6)


def test_an_upset_moves_the_most():
    # expected for the underdog = 1 / (1 + 10 ** (200 / 400)) = 0.2402531; delta = 4 * 0.7597469
    left, right = elo.updated(900, 1100, 1.0)
    assert left - 900 == pytest.approx(3.0389876, abs=1e-6)
    assert 1100 - right == pytest.approx(3.0389876, abs=1e-6)


@pytest.mark.django_db
def test_elo_apply_counts_wins_losses_and_draws_and_creates_missing_rows():
    a, b = AIModelFactory(), AIModelFactory()

    elo_apply(arena="t2i", left_model_id=a.pk, right_model_id=b.pk, left_score=1.0)
    change = elo_apply(arena="t2i", left_model_id=b.pk, right_model_id=a.pk, left_score=0.5)

    ra, rb = EloRating.objects.get(model=a), EloRating.objects.get(model=b)
    assert (ra.votes, ra.wins, ra.losses, ra.ties) == (2, 1, 0, 1)
    assert (rb.votes, rb.wins, rb.losses, rb.ties) == (2, 0, 1, 1)
    assert change.left_before == pytest.approx(998.0)
    assert ra.rating + rb.rating == pytest.approx(2000.0)
    assert ra.win_rate == pytest.approx(0.75)


@pytest.mark.django_db
def test_elo_is_kept_apart_per_arena():
    a, b = AIModelFactory(can_edit=True), AIModelFactory(can_edit=True)

    elo_apply(arena="edit", left_model_id=a.pk, right_model_id=b.pk, left_score=1.0)

    assert not EloRating.objects.filter(arena="t2i").exists()
    assert EloRating.objects.get(arena="edit", model=a).rating == pytest.approx(1002.0)
