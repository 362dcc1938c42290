"""The fapiao QR parser (china-facts §7): the public samples, 7 to 9 fields, and refusals."""

from __future__ import annotations

import datetime as dt

import pytest

from app import fapiao


@pytest.mark.parametrize(
    "text,kind,code,number,fen,key,basis",
    [
        (
            "01,10,011001605111,80100798,64.9,20161018,85342965681116380258",
            "10",
            "011001605111",
            "80100798",
            6490,
            "011001605111-80100798",
            "excl_tax",
        ),
        (
            "01,01,1200154130,03630024,94339.62,20160621,,9335,",
            "01",
            "1200154130",
            "03630024",
            9433962,
            "1200154130-03630024",
            "excl_tax",
        ),
        (
            "01,04,4200161350,00015045,165106.00,20160501,48114255542168294433,DBFE,",
            "04",
            "4200161350",
            "00015045",
            16510600,
            "4200161350-00015045",
            "excl_tax",
        ),
        (
            "01,32,,24312000000136634917,0.01,20240514,,1DD6",
            "32",
            "",
            "24312000000136634917",
            1,
            "24312000000136634917",
            "incl_tax_unconfirmed",
        ),
        (
            "01,51,,26339132621000219582,56.00,20260423,,219a",
            "51",
            "",
            "26339132621000219582",
            5600,
            "26339132621000219582",
            "unknown",
        ),
        (
            "01,31,,24922000000012341234,666.00,20240208,,76A1",
            "31",
            "",
            "24922000000012341234",
            66600,
            "24922000000012341234",
            "incl_tax_unconfirmed",
        ),
        (
            "01,10,011001605111,80100798,64.9,20161018,85342965681116380258,,",
            "10",
            "011001605111",
            "80100798",
            6490,
            "011001605111-80100798",
            "excl_tax",
        ),
    ],
)
def test_public_samples(text, kind, code, number, fen, key, basis) -> None:
    q = fapiao.parse(text)
    assert (q.kind, q.code, q.number, q.amount, q.invoice_key, q.amount_basis) == (
        kind,
        code,
        number,
        fen,
        key,
        basis,
    )
    assert q.raw == text
    d = q.as_dict()
    assert d["kind_name"] == fapiao.KINDS[kind][0] and d["kind_name_en"]
    assert isinstance(q.date, dt.date)


def test_special_kinds() -> None:
    assert fapiao.parse("01,01,1200154130,03630024,94339.62,20160621,,9335,").special
    assert fapiao.parse("01,31,,24922000000012341234,666.00,20240208,,76A1").special
    assert not fapiao.parse("01,32,,24312000000136634917,0.01,20240514,,1DD6").special


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "01,10,011001605111,80100798,64.9,20161018",  # 6 fields
        "01,10,011001605111,80100798,64.9,20161018,1,2,3,4",  # 10 fields
        "01,10,,80100798,64.9,20161018,123",  # legacy number without code
        "01,32,,2431200000013663491,0.01,20240514,,1DD6",  # 19 digits
        "01,10,011001605111,80100798,64.999,20161018,123",  # 3 decimals
        "01,10,011001605111,80100798,-1,20161018,123",
        "01,10,011001605111,80100798,1e3,20161018,123",
        "01,10,011001605111,80100798,64.9,20160230,123",  # no such day
        "01,10,011001605111,80100798,64.9,2016-10-18,123",
        "01,1X,011001605111,80100798,64.9,20161018,123",
        "01,10,011001605111,80100798,64.9,20161018,123,XYZ!",
    ],
)
def test_not_a_fapiao(text: str) -> None:
    with pytest.raises(fapiao.NotAFapiao):
        fapiao.parse(text)


def test_try_parse_keeps_the_first_raw_text() -> None:
    q, raw = fapiao.try_parse(["https://x", "01,32,,24312000000136634917,0.01,20240514,,1DD6"])
    assert q is not None and q.number == "24312000000136634917"
    q, raw = fapiao.try_parse(["https://x"])
    assert q is None and raw == "https://x"
    assert fapiao.try_parse([]) == (None, None)
