import pytest

from app.errors import Unprocessable
from app.money import MAX_FEN, format_fen, parse_amount


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0.01", 1),
        ("12.3", 1230),
        ("12.30", 1230),
        ("35.50", 3550),
        ("100", 10000),
        ("999999999999.99", MAX_FEN),
    ],
)
def test_parse_amount_accepts_decimal_strings(text: str, fen: int) -> None:
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    "bad",
    [
        "12.345",
        "-0",
        "-1.00",
        "1e3",
        "1E3",
        "+5",
        " 5",
        "5 ",
        "1,000",
        "0x10",
        "",
        ".5",
        "5.",
        "01.00",
        "1000000000000.00",
        "99999999999999999999",
        "NaN",
        "Infinity",
        "１２",
        12.3,
        12,
        None,
    ],
)
def test_parse_amount_refuses_everything_else(bad: object) -> None:
    with pytest.raises(Unprocessable) as err:
        parse_amount(bad)
    assert err.value.code == "invalid_amount"


def test_zero_is_refused_unless_allowed() -> None:
    with pytest.raises(Unprocessable):
        parse_amount("0.00")
    assert parse_amount("0.00", allow_zero=True) == 0


@pytest.mark.parametrize("fen", [0, 1, 5, 99, 100, 1230, 123456789, -5, -1230])
def test_format_round_trips(fen: int) -> None:
    text = format_fen(fen)
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2
    if fen >= 0:
        assert parse_amount(text, allow_zero=True) == fen
    else:
        assert parse_amount(text[1:]) == -fen
