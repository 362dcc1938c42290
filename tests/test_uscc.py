import pytest

from app import uscc

# Published valid codes (python-stdnum's doctest, china-facts §7.3).
VALID = ["91110000600037341L", "91340600MA2PBM9HXD", "121200004013590816", "91310115MA1K3BTP2B"]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass_the_check_character(code: str) -> None:
    assert uscc.check_ok(code)


@pytest.mark.parametrize("code", VALID)
def test_any_single_character_change_is_caught(code: str) -> None:
    for pos in range(18):
        for ch in uscc.ALPHABET:
            if ch == code[pos]:
                continue
            changed = code[:pos] + ch + code[pos + 1 :]
            if uscc.is_well_formed(changed):
                assert not uscc.check_ok(changed), changed


@pytest.mark.parametrize(
    "code",
    [
        "91110000600037341",
        "91110000600037341LL",
        "9111000060003734IL",
        "91110000600037341O",
        "91A1000060003734XL",
    ],
)
def test_malformed_codes_are_not_well_formed(code: str) -> None:
    assert not uscc.is_well_formed(code)


def test_pilot_code_with_wrong_check_character_is_well_formed_but_fails_check() -> None:
    assert uscc.is_well_formed("91350100M0001TGQXM")
    assert not uscc.check_ok("91350100M0001TGQXM")
