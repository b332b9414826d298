"""Stall QR images and print kits: decodable, cache-friendly, never for an unchecked account."""

import io

import pypdfium2
import zxingcpp
from PIL import Image, ImageFilter
from sqlalchemy import select

from market.extensions import db
from market.markets.models import Stall
from market.markets.queries import stall_rows
from market.merchants import services as merchant_services
from market.merchants.models import PayeeAccount
from market.vietqr import build_payload, parse_payload

STATIC_A = build_payload("970436", "0011001234567")


def _decode_png(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def _decode_pdf(data: bytes, dpi: int = 150) -> list[list[str]]:
    pdf = pypdfium2.PdfDocument(data)
    try:
        pages = []
        for page in pdf:
            image = page.render(scale=dpi / 72).to_pil()
            pages.append(sorted(r.text for r in zxingcpp.read_barcodes(image)))
            page.close()
        return pages
    finally:
        pdf.close()


def test_stall_qr_png_and_svg_decode_to_the_stall_payload(world, client):
    png = client.get("/stalls/TN-A/A-01/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert _decode_png(png.data) == [STATIC_A]
    svg = client.get("/stalls/TN-A/A-01/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_amount_gives_a_dynamic_qr_and_bad_amounts_are_refused(world, client):
    response = client.get("/stalls/TN-A/A-01/qr.png?amount=25.000")
    parsed = parse_payload(_decode_png(response.data)[0])
    assert parsed.initiation == "12" and parsed.amount == 25000
    for bad in ("abc", "0", "-5", "1,5e3", "999999999999"):
        answer = client.get(f"/stalls/TN-A/A-01/qr.png?amount={bad}")
        assert answer.status_code == 422


def test_etag_lets_a_phone_fetch_it_once(world, client):
    first = client.get("/stalls/TN-A/A-01/qr.png")
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get("/stalls/TN-A/A-01/qr.png", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_no_qr_for_an_inactive_stall_or_an_unverified_payee(world, client):
    world.stall_a.status = "closed"
    db.session.commit()
    assert client.get("/stalls/TN-A/A-01/qr.png").status_code == 404
    world.stall_a.status = "active"
    db.session.commit()
    merchant_services.set_payee(
        world.users["manager"],
        world.stall_a,
        bank_bin="970415",
        account_number="555666777",
        service="account",
        holder_name="NGUYEN THI HOA",
    )
    refused = client.get("/stalls/TN-A/A-01/qr.png")
    assert refused.status_code == 409
    assert "chưa có tài khoản nhận tiền đã xác minh" in refused.get_data(as_text=True)
    assert client.get("/stalls/TN-A/NOPE/qr.png").status_code == 404
    assert client.get("/stalls/NOPE/A-01/qr.png").status_code == 404


def test_a_verified_payee_change_changes_the_qr_and_its_etag(world, client):
    before = client.get("/stalls/TN-A/A-01/qr.png")
    payee = merchant_services.set_payee(
        world.users["manager"],
        world.stall_a,
        bank_bin="970415",
        account_number="555666777",
        service="account",
        holder_name="NGUYEN THI HOA",
    )
    merchant_services.verify_payee(world.users["manager2"], payee)
    after = client.get(
        "/stalls/TN-A/A-01/qr.png", headers={"If-None-Match": before.headers["ETag"]}
    )
    assert after.status_code == 200
    assert _decode_png(after.data) == [build_payload("970415", "555666777")]


def test_market_print_kit_has_every_printable_stall_and_marks_them_printed(world, client, auth):
    for i in range(2, 7):
        stall = Stall(market_id=world.market_a.id, code=f"A-0{i}", status="active")
        db.session.add(stall)
        db.session.flush()
        db.session.add(
            PayeeAccount(
                stall_id=stall.id,
                bank_bin="970405",
                account_number=f"15002051234{i}",
                holder_name="LE THI MAI",
                verified_at=db.func.now(),
            )
        )
    db.session.add(Stall(market_id=world.market_a.id, code="A-09", status="vacant"))
    db.session.commit()
    auth.login("manager")
    response = client.get("/markets/TN-A/stickers.pdf")
    assert response.status_code == 200
    pages = _decode_pdf(response.data)
    assert len(pages) == 2  # six stickers, four per A4 page
    decoded = sorted(text for page in pages for text in page)
    expected = sorted(
        [STATIC_A] + [build_payload("970405", f"15002051234{i}") for i in range(2, 7)]
    )
    assert decoded == expected
    printed = db.session.scalars(select(Stall.code).where(Stall.sticker_printed_at.is_not(None)))
    assert sorted(printed) == ["A-01", "A-02", "A-03", "A-04", "A-05", "A-06"]
    single = client.get("/markets/TN-A/stickers.pdf?layout=single")
    assert len(_decode_pdf(single.data)) == 6
    assert client.get("/markets/TN-A/stickers.pdf?layout=a4x4&size=A5").status_code == 422


def test_a_payee_change_after_printing_shows_the_stall_as_needing_a_reprint(world, client, auth):
    auth.login("manager")
    client.get("/markets/TN-A/stickers.pdf").close()
    state = {s.code: q for s, _m, _p, q in stall_rows(world.market_a).items}
    assert state["A-01"] == "ready"
    payee = merchant_services.set_payee(
        world.users["manager"],
        world.stall_a,
        bank_bin="970415",
        account_number="555666777",
        service="account",
        holder_name="NGUYEN THI HOA",
    )
    merchant_services.verify_payee(world.users["manager2"], payee)
    state = {s.code: q for s, _m, _p, q in stall_rows(world.market_a).items}
    assert state["A-01"] == "reprint"
    page = client.get("/markets/TN-A?qr=reprint").get_data(as_text=True)
    assert "A-01" in page


def test_merchant_prints_their_own_sticker_with_the_holder_name(world, client, auth):
    auth.login("merchant")
    response = client.get("/markets/TN-A/stalls/A-01/sticker.pdf?size=A5")
    assert response.status_code == 200
    assert _decode_pdf(response.data) == [[STATIC_A]]
    pdf = pypdfium2.PdfDocument(response.data)
    text = pdf[0].get_textpage().get_text_range()
    pdf.close()
    assert "NGUYEN THI HOA" in text and "Chợ Đồng Quang" in text
    assert client.get("/markets/TN-B/stalls/B-01/sticker.pdf").status_code == 404


def test_market_without_printable_stalls_gets_a_clear_error(world, client, auth):
    world.stall_a.status = "vacant"
    db.session.commit()
    auth.login("manager")
    response = client.get("/markets/TN-A/stickers.pdf")
    assert response.status_code == 409
    assert "chưa có sạp nào" in response.get_data(as_text=True)


def test_print_stickers_command_writes_the_kit(world, runner, tmp_path):
    out = tmp_path / "kit.pdf"
    result = runner.invoke(args=["print-stickers", "--market", "TN-A", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 1 stickers" in result.output
    assert _decode_pdf(out.read_bytes()) == [[STATIC_A]]


def test_blurred_downscaled_png_still_decodes(world, client):
    """The image survives what a cheap phone camera does to it."""
    image = Image.open(io.BytesIO(client.get("/stalls/TN-A/A-01/qr.png").data)).convert("L")
    small = image.resize((image.width // 2, image.height // 2)).filter(ImageFilter.GaussianBlur(1))
    assert [r.text for r in zxingcpp.read_barcodes(small)] == [STATIC_A]
